"""A throw-away MIT Kerberos KDC for an emulated fleet's domain: the domain controller Kerberos needs.

Everything lives in one directory (database, stash, keytab, logs, ``krb5.conf``, ``kdc.conf``); nothing
outside it is read or written: ``KRB5_CONFIG`` and ``KRB5_KDC_PROFILE`` point at the directory's files,
DNS lookups and reverse-DNS canonicalisation are off, and the KDC listens on a free port of 127.0.0.1.
The fleet's accounts become user principals; each host gets ``HTTP/<fqdn>`` (what pywinrm asks for) and
``WSMAN/<fqdn>`` (pypsrp's default) in the keytab the emulator accepts with (``KRB5_KTNAME``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import typing as t
from pathlib import Path

DEFAULT_REALM = "CORP.EXAMPLE.COM"
PROGRAMS = ("krb5kdc", "kdb5_util", "kadmin.local", "kinit")
SERVICES = ("HTTP", "WSMAN")


def program(name: str) -> str | None:
    """An MIT Kerberos program (Debian puts the KDC tools in /usr/sbin, often outside a user's PATH)."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")


def available() -> bool:
    return all(program(name) for name in PROGRAMS)


def _free_port() -> int:
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
    ):
        tcp.bind(("127.0.0.1", 0))
        port = int(tcp.getsockname()[1])
        udp.bind(("127.0.0.1", port))  # the KDC answers on UDP and TCP on the same port
        return port


class LocalKdc:
    """``start()`` creates the realm and runs ``krb5kdc``; ``stop()`` ends it. The directory stays for logs."""

    def __init__(self, directory: Path, realm: str = DEFAULT_REALM, domains: t.Iterable[str] = ()) -> None:
        self.directory = directory
        self.realm = realm
        self.domains = sorted(set(domains) | {realm.lower()})
        self.port = 0
        self.keytab = directory / "emulator.keytab"
        self.krb5_conf = directory / "krb5.conf"
        self.kdc_conf = directory / "kdc.conf"
        self._process: subprocess.Popen[bytes] | None = None

    # ----------------------------------------------------------------- environment

    def env(self) -> dict[str, str]:
        """What every Kerberos user of this realm needs (clients and the emulator)."""
        return {
            "KRB5_CONFIG": str(self.krb5_conf),
            "KRB5_KDC_PROFILE": str(self.kdc_conf),
            "KRB5CCNAME": f"FILE:{self.directory / 'ccache'}",
            # No replay cache file in /var/tmp: the directory is the only place written.
            "KRB5RCACHETYPE": "none",
        }

    def server_env(self) -> dict[str, str]:
        """The emulator's environment: the above plus the keytab holding the hosts' service principals."""
        return {**self.env(), "KRB5_KTNAME": f"FILE:{self.keytab}"}

    # ----------------------------------------------------------------- lifecycle

    def start(self, users: t.Mapping[str, str], hosts: t.Iterable[str]) -> None:
        """Create the realm with ``users`` (name -> password) and a service principal pair per host FQDN."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self._write_config()
        env = {**os.environ, **self.env()}
        created = subprocess.run(
            [self._program("kdb5_util"), "create", "-s", "-r", self.realm, "-P", "emulated-kdc-master"],
            env=env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        if created.returncode != 0:
            raise RuntimeError(f"kdb5_util create failed: {created.stderr.decode(errors='replace')}")
        commands = [f'addprinc -pw "{password}" {name}' for name, password in users.items()]
        for fqdn in hosts:
            services = [f"{service}/{fqdn.lower()}" for service in SERVICES]
            commands += [f"addprinc -randkey {principal}" for principal in services]
            commands.append(f"ktadd -k {self.keytab} {' '.join(services)}")
        script = "\n".join(commands) + "\nquit\n"
        result = subprocess.run(
            [self._program("kadmin.local"), "-r", self.realm],
            input=script.encode(),
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0 or not self.keytab.exists():
            raise RuntimeError(f"kadmin.local failed: {result.stderr.decode(errors='replace')}")
        log = (self.directory / "krb5kdc.out").open("wb")
        self._process = subprocess.Popen(
            [self._program("krb5kdc"), "-n", "-r", self.realm], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        self._wait_listening()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def kinit_command(self) -> str:
        """A kinit for Ansible's ``ansible_winrm_kinit_cmd``: Ansible runs kinit with only PATH and KRB5CCNAME
        in its environment, so this wrapper brings the realm's ``KRB5_CONFIG``."""
        wrapper = self.directory / "kinit"
        wrapper.write_text(f'#!/bin/sh\nKRB5_CONFIG="{self.krb5_conf}" exec "{self._program("kinit")}" "$@"\n')
        wrapper.chmod(0o755)
        return str(wrapper)

    def kinit(self, principal: str, password: str, ccache: Path) -> subprocess.CompletedProcess[bytes]:
        env = {**os.environ, **self.env(), "KRB5CCNAME": f"FILE:{ccache}"}
        return subprocess.run(
            [self._program("kinit"), principal],
            input=f"{password}\n".encode(),
            env=env,
            capture_output=True,
            timeout=30,
            check=False,
        )

    # ----------------------------------------------------------------- helpers

    def _program(self, name: str) -> str:
        path = program(name)
        if path is None:
            raise RuntimeError(f"{name} not found: install the Debian packages krb5-kdc, krb5-admin-server, krb5-user")
        return path

    def _write_config(self) -> None:
        mapping = "\n".join(f"    .{domain} = {self.realm}\n    {domain} = {self.realm}" for domain in self.domains)
        self.krb5_conf.write_text(
            f"""[libdefaults]
    default_realm = {self.realm}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    rdns = false
    dns_canonicalize_hostname = false
    ignore_acceptor_hostname = true
    udp_preference_limit = 1
    forwardable = true

[realms]
    {self.realm} = {{
        kdc = 127.0.0.1:{self.port}
    }}

[domain_realm]
{mapping}
"""
        )
        directory = self.directory
        self.kdc_conf.write_text(
            f"""[kdcdefaults]
    kdc_listen = 127.0.0.1:{self.port}
    kdc_tcp_listen = 127.0.0.1:{self.port}

[realms]
    {self.realm} = {{
        database_name = {directory / "principal"}
        key_stash_file = {directory / "stash"}
        acl_file = {directory / "kadm5.acl"}
        max_life = 10h 0m 0s
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    }}

[logging]
    kdc = FILE:{directory / "kdc.log"}
    default = FILE:{directory / "kdc.log"}
"""
        )
        (directory / "kadm5.acl").write_text("")

    def _wait_listening(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                output = (self.directory / "krb5kdc.out").read_text(errors="replace")
                raise RuntimeError(f"krb5kdc exited with {self._process.returncode}: {output}")
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.settimeout(0.5)
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"krb5kdc did not listen on 127.0.0.1:{self.port} within {timeout:g} s")
