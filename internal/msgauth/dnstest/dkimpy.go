package dnstest

// DKIMPyVerify is a Python 3 script for Debian's python3-dkim (dkimpy),
// an implementation of DKIM independent of ours: run as
// `python3 -c DKIMPyVerify HOST:PORT FILE`, it verifies every
// DKIM-Signature of the message in FILE with the keys the DNS server at
// HOST:PORT serves, and exits 0 only when there is at least one and all
// verify. It needs python3-dnspython, and python3-nacl for ed25519.
const DKIMPyVerify = `
import sys, dkim, dns.resolver
r = dns.resolver.Resolver(configure=False)
host, port = sys.argv[1].rsplit(":", 1)
r.nameservers = [host]
r.port = int(port)
def txt(name, timeout=5):
    try:
        a = r.resolve(name.decode().rstrip("."), "TXT", lifetime=timeout)
    except Exception:
        return None
    return b"".join(b"".join(rr.strings) for rr in a)
msg = open(sys.argv[2], "rb").read()
d = dkim.DKIM(msg)
sigs = [v for k, v in d.headers if k.lower() == b"dkim-signature"]
ok = all(d.verify(idx=i, dnsfunc=txt) for i in range(len(sigs)))
print("signatures:", len(sigs), "verified:", ok)
sys.exit(0 if ok and sigs else 1)
`
