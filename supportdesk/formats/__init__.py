"""The desk's one way to write dates and moments, for its pages and the admin alike."""
