# Two commands on a fresh machine with Python >= 3.11 and pip:  make book  (setup + build),  make test.
PYTHON ?= python3
VENV   ?= .venv
SCALE  ?= cpu
BIN    := $(VENV)/bin

.PHONY: book test setup browser bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $@

# The tests' extra (python-chess): every test runs, none is skipped for a missing package.
$(VENV)/.tested: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

book: setup
	$(BIN)/supercollapse build --scale $(SCALE)

# The browser check of the built site needs Debian's chromium; installed here when we may (root + apt).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ; } || \
	  echo "warning: chromium not installed; the browser test will be skipped"

test: $(VENV)/.tested browser
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python benchmarks/throughput.py

clean:
	rm -rf _build
