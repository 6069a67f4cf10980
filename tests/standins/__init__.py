"""Real local stand-ins for cloud services, used by the test suites.

Each module here is a pytest plugin providing fixtures that start a real
server (or reader) on 127.0.0.1 and stop it afterwards. Vendor libraries are
imported inside the fixtures only, so these modules import in any nox session.
"""
