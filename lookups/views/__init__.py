"""The desk's pages: each view serves its whole page, or with htmx just the part that changed."""
