"""What a chapter's cells call: the page header and glue (`cells`), chart builders (`charts`), page sentences."""
