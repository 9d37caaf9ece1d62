"""Compiled schema validators handed from main's CI job to pull requests' jobs, signed.

Compiling the schemas' validators is most of a pull request's check once main's verdicts are restored
(0.3 s of 0.6 s at 10,000 records): the job starts with an empty cache of its own. Main's job, which holds
the signing key (`bir.cache.trust`), copies each validator it uses into its results folder (`results/`,
which the workflow saves) with a `.sig` beside it; a pull request's job reads one from `BIR_CACHE_SHARED`
only when that signature verifies with the trusted key. A validator is code: one that does not verify is
never unpacked, let alone run. Its name holds the kind, the schemas' fingerprint, the Python version's magic
number and the format, and is signed with it: a pull request that changes a schema compiles its own, and a
signed validator copied under another name is ignored.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bir.base.atomic import read_cache_verified, write_bytes


class SignedValidators:
    """`bir.read.schemas.SharedValidators`: verified reads from the shared layer, signed copies into this
    job's results folder."""

    def __init__(self, shared: Path | None, public: Any | None, own: Path | None, private: Any | None) -> None:
        self.shared, self.public, self.own, self.private = shared, public, own, private

    @classmethod
    def open(cls) -> SignedValidators | None:
        """The layer for this job (None when it neither trusts a shared cache nor signs one)."""
        if not os.environ.get("BIR_CACHE_SHARED") and not os.environ.get("BIR_CACHE_SIGNING_KEY", "").strip():
            return None  # neither variable set (every run outside CI): the result cache need not be loaded
        from bir.cache.results import results_dir, shared_dir
        from bir.cache.trust import signing_key, trusted_key

        shared = shared_dir()
        public = trusted_key() if shared is not None else None
        private = signing_key()
        own = results_dir() if private is not None else None
        if (shared is None or public is None) and own is None:
            return None
        return cls(shared, public, own, private)

    def fetch(self, name: str) -> object | None:
        if self.shared is None or self.public is None:
            return None
        from bir.cache.trust import read_verified

        data = read_verified(self.shared / name, self.public)
        return None if data is None else read_cache_verified(data, codec="marshal")

    def publish(self, name: str, path: Path) -> None:
        if self.own is None or self.private is None:
            return
        from bir.cache.trust import signature_of

        target = self.own / name
        try:
            data = path.read_bytes()
            signature = signature_of(target, data, self.private)
            sig = target.with_name(name + ".sig")
            if target.is_file() and sig.is_file() and target.read_bytes() == data and sig.read_bytes() == signature:
                return
            self.own.mkdir(parents=True, exist_ok=True)
            write_bytes(target, data, durable=False)
            write_bytes(sig, signature, durable=False)
        except OSError:
            pass  # a read-only cache folder: pull requests compile their own


# The ISO 4217 table of minor units (`bir.check.rules.money.iso_currencies`) travels the same way: the
# package parses its XML lists when imported (12 ms at the start of a pull request's check, whose cache is
# empty), so main's job signs the table into its results, named by a digest of the package's files (their
# times differ from one installation to the next, their bytes do not).


def take_currencies() -> None:
    """A job that trusts a shared layer: put main's signed table in this user's cache, where the money rules
    read it, when this user has none and the signature verifies (else the rules read the package)."""
    from bir.base.atomic import write_cache
    from bir.check.rules.money import installed_package, is_table

    layer = SignedValidators.open()
    package = installed_package()
    if layer is None or package.cached is None or not package.files or package.cached.is_file():
        return
    table = layer.fetch(package.signed_name())
    if is_table(table):
        write_cache(package.cached, table, codec="marshal")


def hand_on_currencies() -> None:
    """Main's job (the signing key set): sign the table into its results for pull requests' jobs."""
    from bir.base.atomic import write_cache
    from bir.check.rules.money import installed_package, iso_currencies

    layer = SignedValidators.open()
    package = installed_package()
    if layer is None or layer.private is None or package.cached is None or not package.files:
        return
    if not package.cached.is_file():  # the table in this user's cache (a process may hold it from elsewhere)
        write_cache(package.cached, iso_currencies(), codec="marshal")
    layer.publish(package.signed_name(), package.cached)
