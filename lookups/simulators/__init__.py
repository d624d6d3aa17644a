"""Local stand-ins for the App Store Server API and Adapty over real HTTP, with demo data.

No Django: the demo, the tests, the benchmarks and anyone else can run them. They share one
HTTP server base (`http_server`) and may use `lookups.appstore`'s payload types.
"""

# The App Store simulator's server takes its defaults from demo_data, which uses its catalog:
# loading the package first lets `import lookups.simulators.demo_data` work from anywhere.
from lookups.simulators import appstore  # noqa: F401
