"""The desk's use cases, a module each: the only writers of lookups and the audit log, and the only
callers of the App Store and Adapty clients (built from settings in `clients`)."""
