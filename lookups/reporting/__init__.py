"""The managers\x27 reports: figures from the database, server-drawn SVG charts, CSV exports."""
