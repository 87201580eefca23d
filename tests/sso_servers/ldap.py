"""A real LDAP directory for the sign-in tests: Debian's slapd on loopback.

``slapd_directory`` (session-scoped) builds a directory of its own in a
temporary folder: a ``slapd.conf`` (read with ``-f``; the packaged service and
its /etc/ldap/slapd.d are not used), an mdb database under ``dc=campus,dc=test``
loaded with ``slapadd``, passwords hashed ``{SSHA}`` by ``slappasswd``. slapd
runs in the foreground (``-d 0``) as the current user, listening only on
``ldap://127.0.0.1:<free port>/``, with its pid and args files in the temporary
folder (so neither AppArmor's profile nor /run/slapd's ownership get in the way).

The schemas are those Debian ships (core, cosine, inetorgperson): eduPerson is
not among them, so the role an establishment would read from
``eduPersonAffiliation`` is read here from ``employeeType`` (``staff``,
``student``), and a group from ``memberOf`` (the memberof overlay, filled when
the groups are added over LDAP after the start: slapadd runs no overlay).

Without /usr/sbin/slapd the fixture fails and says how to install it.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.sso_servers.process import free_port, log_tail, stop_process, wait_until_ready

SLAPD = Path("/usr/sbin/slapd")
SLAPADD = Path("/usr/sbin/slapadd")
SLAPPASSWD = Path("/usr/sbin/slappasswd")
SCHEMAS = Path("/etc/ldap/schema")
MODULES = Path("/usr/lib/ldap")
START_TIMEOUT = 20  # seconds for slapd to answer

BASE = "dc=campus,dc=test"
PEOPLE = f"ou=people,{BASE}"
GROUPS = f"ou=groups,{BASE}"
ADMIN_DN = f"cn=admin,{BASE}"
ADMIN_PASSWORD = "admin-secret"
# The service account a "search" provider binds as to find the user's entry.
READER_DN = f"cn=reader,{BASE}"
READER_PASSWORD = "reader-secret"
COORDINATORS = f"cn=coordinators,{GROUPS}"


@dataclass(frozen=True)
class Person:
    uid: str
    password: str
    given_name: str
    surname: str
    mail: str
    employee_type: str
    groups: tuple[str, ...] = ()

    @property
    def dn(self) -> str:
        return f"uid={self.uid},{PEOPLE}"

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.surname}"


# One person per scenario, so the tests of a file stay independent.
PEOPLE_LIST = (
    Person("amartin", "amartin-pass", "Amélie", "Martin", "amelie.martin@univ.campus.test",
           "staff"),
    Person("bpetit", "bpetit-pass", "Bruno", "Petit", "bruno.petit@univ.campus.test", "staff",
           groups=(COORDINATORS,)),
    Person("cleroy", "cleroy-pass", "Chloé", "Leroy", "chloe.leroy@univ.campus.test", "student"),
    Person("dmoreau", "dmoreau-pass", "Denis", "Moreau", "denis.moreau@univ.campus.test",
           "staff"),
    Person("egarnier", "egarnier-pass", "Élise", "Garnier", "elise.garnier@univ.campus.test",
           "staff"),
    Person("fblanc", "fblanc-pass", "Fabien", "Blanc", "fabien.blanc@univ.campus.test", "staff"),
    Person("gfaure", "gfaure-pass", "Gaëlle", "Faure", "gaelle.faure@univ.campus.test", "staff"),
    Person("hroux", "hroux-pass", "Hugo", "Roux", "hugo.roux@univ.campus.test", "staff"),
    Person("iduval", "iduval-pass", "Inès", "Duval", "ines.duval@univ.campus.test", "staff"),
)
PERSONS = {person.uid: person for person in PEOPLE_LIST}


@dataclass
class Directory:
    """The running slapd, and what the tests need to know about it."""

    url: str
    port: int
    workdir: Path
    tls_port: int = 0  # ldaps://
    ca_pem: str = ""  # the test CA that signed slapd's certificate (for 127.0.0.1)
    process: subprocess.Popen[bytes] | None = None
    people: dict[str, Person] = field(default_factory=lambda: dict(PERSONS))

    base = BASE
    people_base = PEOPLE
    admin_dn = ADMIN_DN
    admin_password = ADMIN_PASSWORD
    reader_dn = READER_DN
    reader_password = READER_PASSWORD
    coordinators = COORDINATORS

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.tls_port}"

    # --- the provider settings of each mode -------------------------------------------
    def template_settings(self, **extra: object) -> dict[str, object]:
        return {"url": self.url, "user_dn_template": f"uid={{username}},{PEOPLE}", **extra}

    def search_settings(self, **extra: object) -> dict[str, object]:
        return {"url": self.url, "search_base": PEOPLE, "search_filter":
                "(&(objectClass=inetOrgPerson)(uid={username}))",
                "bind_dn": READER_DN, "bind_password": READER_PASSWORD, **extra}

    # --- the tests' own changes, as the directory's administrator ------------------------
    # ldap3 comes through booking.auth.sso.ldap, which silences its import-time
    # DeprecationWarning (the tests make warnings errors).
    def admin(self) -> Any:
        """A connection bound as the directory's administrator."""
        from booking.auth.sso.ldap import ldap3

        server = ldap3.Server(self.url, get_info=ldap3.NONE, connect_timeout=5)
        conn = ldap3.Connection(server, ADMIN_DN, ADMIN_PASSWORD, receive_timeout=5,
                                raise_exceptions=True)
        try:
            conn.bind()
        except Exception:
            # ldap3 leaves the socket of a failed connection open.
            if conn.socket is not None:
                conn.socket.close()
            raise
        return conn

    def replace(self, uid: str, **attributes: str) -> None:
        """Replace attributes of a person's entry (e.g. ``mail=...``)."""
        from booking.auth.sso.ldap import ldap3

        conn = self.admin()
        try:
            conn.modify(PERSONS[uid].dn, {name: [(ldap3.MODIFY_REPLACE, [value])]
                                          for name, value in attributes.items()})
        finally:
            conn.unbind()

    def entry_uuid(self, uid: str) -> str:
        conn = self.admin()
        try:
            conn.search(PERSONS[uid].dn, "(objectClass=*)", search_scope="BASE",
                        attributes=["entryUUID"])
            return str(conn.response[0]["raw_attributes"]["entryUUID"][0].decode())
        finally:
            conn.unbind()

    # --- start and stop -----------------------------------------------------------------
    def start(self) -> None:
        log = (self.workdir / "slapd.log").open("ab")
        with log:
            self.process = subprocess.Popen(
                [str(SLAPD), "-d", "0", "-f", str(self.workdir / "slapd.conf"),
                 "-h", f"ldap://127.0.0.1:{self.port}/ ldaps://127.0.0.1:{self.tls_port}/"],
                stdout=log, stderr=subprocess.STDOUT)
        self._wait_answering()

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_process(process)

    @contextlib.contextmanager
    def stopped(self) -> Iterator[None]:
        """The directory is down for the block, then back on the same port."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def log_tail(self, lines: int = 30) -> str:
        return log_tail(self.workdir / "slapd.log", lines)

    def _wait_answering(self) -> None:
        assert self.process is not None
        wait_until_ready(self.process, self._answering, name="slapd", what=self.url,
                         timeout=START_TIMEOUT, log=self.workdir / "slapd.log", stop=self.stop)

    def _answering(self) -> bool:
        from booking.auth.sso.ldap import LDAPException, ldap3

        # A plain connect first: ldap3 leaves the socket of a refused one open.
        with socket.socket() as probe:
            probe.settimeout(1)
            if probe.connect_ex(("127.0.0.1", self.port)) != 0:
                return False
        try:
            # The root DSE, anonymously: the database is open too.
            server = ldap3.Server(self.url, get_info=ldap3.NONE, connect_timeout=2)
            conn = ldap3.Connection(server, auto_bind=True, receive_timeout=2)
            try:
                conn.search("", "(objectClass=*)", search_scope="BASE",
                            attributes=["namingContexts"])
            finally:
                conn.unbind()
        except LDAPException:
            return False
        return True


def _ssha(password: str) -> str:
    return subprocess.run([str(SLAPPASSWD), "-h", "{SSHA}", "-s", password], check=True,
                          capture_output=True, text=True, timeout=10).stdout.strip()


def _config(workdir: Path) -> str:
    schemas = "\n".join(f"include {SCHEMAS / name}.schema"
                        for name in ("core", "cosine", "inetorgperson"))
    return f"""{schemas}
modulepath {MODULES}
moduleload back_mdb
moduleload memberof
pidfile {workdir / "slapd.pid"}
argsfile {workdir / "slapd.args"}
TLSCACertificateFile {workdir / "ca.pem"}
TLSCertificateFile {workdir / "server.pem"}
TLSCertificateKeyFile {workdir / "server.key"}

database mdb
maxsize 16777216
suffix "{BASE}"
rootdn "{ADMIN_DN}"
rootpw {_ssha(ADMIN_PASSWORD)}
directory {workdir / "data"}
index objectClass eq
index uid eq
overlay memberof

# A person binds with their own password and reads their own entry; the
# service account reads everyone; no one else reads anything.
access to attrs=userPassword
    by self =xw
    by anonymous auth
    by * none
access to *
    by self read
    by dn.exact="{READER_DN}" read
    by anonymous auth
    by * none
"""


def _ldif() -> str:
    entries = [
        f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: campus\n"
        "o: Campus test\n",
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n",
        f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups\n",
        f"dn: {READER_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
        f"cn: reader\nuserPassword: {_ssha(READER_PASSWORD)}\n",
    ]
    for person in PEOPLE_LIST:
        entries.append(
            f"dn: {person.dn}\nobjectClass: inetOrgPerson\nuid: {person.uid}\n"
            f"cn:: {_b64(person.display_name)}\nsn:: {_b64(person.surname)}\n"
            f"givenName:: {_b64(person.given_name)}\ndisplayName:: {_b64(person.display_name)}\n"
            f"mail: {person.mail}\nemployeeType: {person.employee_type}\n"
            f"userPassword: {_ssha(person.password)}\n")
    return "\n".join(entries)


def _b64(text: str) -> str:
    # LDIF carries non-ASCII values base64-encoded (« cn:: »).
    import base64

    return base64.b64encode(text.encode()).decode()


def _certificates(workdir: Path) -> str:
    """A CA of the test's own and slapd's certificate for 127.0.0.1, signed by
    it (StartTLS and ldaps://, certificates checked); the CA's PEM."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def build(subject: str, key: Any, issuer: str, issuer_key: Any, *, ca: bool) -> Any:
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                   .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(hours=1))
                   .not_valid_after(now + datetime.timedelta(days=2))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if ca:
            builder = builder.add_extension(x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        else:
            import ipaddress

            builder = builder.add_extension(x509.SubjectAlternativeName([
                # Not "localhost": a test reaches it by that name to see it refused.
                x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = build("Plateforme test CA", ca_key, "Plateforme test CA", ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = build("127.0.0.1", server_key, "Plateforme test CA", ca_key, ca=False)
    pem = serialization.Encoding.PEM
    ca_pem = ca.public_bytes(pem).decode()
    (workdir / "ca.pem").write_text(ca_pem)
    (workdir / "server.pem").write_bytes(server.public_bytes(pem))
    key_file = workdir / "server.key"
    key_file.write_bytes(server_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    key_file.chmod(0o600)
    return ca_pem


def _add_groups(directory: Directory) -> None:
    """Added over LDAP, so the memberof overlay fills each member's memberOf."""
    members: dict[str, list[str]] = {}
    for person in PEOPLE_LIST:
        for group in person.groups:
            members.setdefault(group, []).append(person.dn)
    conn = directory.admin()
    try:
        for group, dns in members.items():
            cn = group.split(",", 1)[0].split("=", 1)[1]
            conn.add(group, ["groupOfNames"], {"cn": cn, "member": dns})
    finally:
        conn.unbind()


def start_directory(workdir: Path) -> Directory:
    """Build, load and start a directory in ``workdir`` (which must be empty)."""
    for tool in (SLAPD, SLAPADD, SLAPPASSWD):
        if not tool.exists():
            pytest.fail(f"the LDAP sign-in tests need Debian's slapd ({tool} is missing): "
                        "run `make sso-tools` (apt-get install slapd ldap-utils)", pytrace=False)
    (workdir / "data").mkdir(parents=True)
    (workdir / "slapd.conf").write_text(_config(workdir))
    (workdir / "people.ldif").write_text(_ldif())
    loaded = subprocess.run([str(SLAPADD), "-q", "-f", str(workdir / "slapd.conf"),
                             "-l", str(workdir / "people.ldif")],
                            capture_output=True, text=True, timeout=60, check=False)
    if loaded.returncode:
        pytest.fail(f"slapadd failed ({loaded.returncode}):\n{loaded.stdout}{loaded.stderr}",
                    pytrace=False)
    port = free_port()
    directory = Directory(url=f"ldap://127.0.0.1:{port}", port=port, workdir=workdir,
                          tls_port=free_port(), ca_pem=_certificates(workdir))
    directory.start()
    try:
        _add_groups(directory)
    except Exception:
        directory.stop()
        raise
    return directory


@pytest.fixture(scope="session")
def slapd_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Directory]:
    """Debian's slapd with the people of :data:`PEOPLE_LIST`, for the session."""
    workdir = tmp_path_factory.mktemp("slapd")
    directory = start_directory(workdir)
    try:
        yield directory
    finally:
        directory.stop()
        shutil.rmtree(workdir / "data", ignore_errors=True)
