"""Local stand-ins for the App Store Server API and Adapty over real HTTP, with demo data.

No Django: the demo, the tests, the benchmarks and anyone else can run them. They share one
HTTP server base (`http_server`) and may use `lookups.appstore`'s payload types.
"""
