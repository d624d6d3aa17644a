"""A local stand-in for the App Store Server API, faithful enough to test a client against.

It serves Look Up Order ID, Get Transaction History, Set App Account Token, Get All Subscription
Statuses, Get Transaction Info, Get Refund History, Extend a Subscription Renewal Date and Send
Consumption Information over HTTP with Apple's authentication, answers, errors and signed
transactions and renewal info, using its own certificate chain; it sends App Store Server
Notifications V2 and serves their history and the test notification.
Nothing here depends on Django.
"""

from __future__ import annotations

from lookups.simulators.appstore.certificates import SigningChain, make_signing_chain
from lookups.simulators.appstore.server import AppStoreSimulator
from lookups.simulators.appstore.signing import sign_jws

__all__ = ["AppStoreSimulator", "SigningChain", "make_signing_chain", "sign_jws"]
