"""Drive Postern's POP3 server with Python's poplib (a client nobody here wrote).

usage: pop3_poplib.py SCENARIO PORT SECURE_PORT CAFILE USER PASSWORD APOP_SECRET
Prints "ok SCENARIO" on success; any failure raises (non-zero exit).
"""
import poplib
import ssl
import sys

scenario, port, sport, cafile, user, password, secret = sys.argv[1:8]
port, sport = int(port), int(sport)
ctx = ssl.create_default_context(cafile=cafile)


def check(cond, what):
    if not cond:
        raise SystemExit("FAIL %s: %s" % (scenario, what))


def octets(resp):
    return int(resp.split()[1])


if scenario == "userpass":
    p = poplib.POP3("localhost", port, timeout=20)
    check(p.getwelcome().startswith(b"+OK POP server Postern"), p.getwelcome())
    caps = p.capa()
    check("UIDL" in caps and "TOP" in caps and "STLS" in caps and "USER" in caps, caps)
    check(p.user(user).startswith(b'+OK Password required for "%s"' % user.encode()), "USER reply")
    check(p.pass_(password) == b"+OK Username/password combination ok", "PASS reply")
    count, size = p.stat()
    check(count == 3, "stat count %d" % count)
    resp, listing, _ = p.list()
    sizes = [int(l.split()[1]) for l in listing]
    check(sum(sizes) == size, "LIST sizes %r vs STAT %d" % (sizes, size))
    resp, lines, n = p.retr(1)
    # poplib un-stuffs and strips CRLF; the octets on the wire are the
    # message with CRLF line ends: the size LIST gave.
    wire = sum(len(l) + 2 for l in lines)
    check(wire == sizes[0], "RETR %d octets, LIST said %d" % (wire, sizes[0]))
    check(b".dot line" in lines, "byte-stuffing not undone: %r" % lines)
    resp, lines, n = p.top(2, 1)
    check(lines[-1] == b"body of message 2", "TOP 2 1 last line %r" % lines[-1:])
    check(b"Subject: message 2" in lines, "TOP header")
    resp, uidls, _ = p.uidl()
    ids = [l.split()[1] for l in uidls]
    check(len(set(ids)) == 3 and all(i.startswith(user.encode() + b".") for i in ids), ids)
    p.dele(3)
    p.rset()
    check(p.stat()[0] == 3, "RSET")
    p.dele(3)
    check(p.quit().startswith(b"+OK Postern POP server at"), "sign-off")
    # A second session: message 3 is gone, message 1 (read) moved to Mail,
    # message 2 (only TOP) stays, with the same UIDL.
    p = poplib.POP3("localhost", port, timeout=20)
    p.user(user)
    p.pass_(password)
    check(p.stat()[0] == 1, "after DELE+QUIT: %r" % (p.stat(),))
    resp, uidls2, _ = p.uidl()
    check([l.split()[1] for l in uidls2] == ids[1:2], "UIDL not stable: %r %r" % (uidls2, ids))
    p.quit()

elif scenario == "apop":
    p = poplib.POP3("localhost", port, timeout=20)
    check(p.apop(user, secret) == b"+OK Username/digest combination ok", "APOP")
    check(p.stat()[0] >= 1, "stat")
    p.quit()

elif scenario == "stls":
    p = poplib.POP3("localhost", port, timeout=20)
    p.stls(context=ctx)
    caps = p.capa()
    check("STLS" not in caps, "STLS offered after STLS: %r" % caps)
    p.user(user)
    p.pass_(password)
    resp, lines, _ = p.retr(1)
    check(any(l.startswith(b"Subject: message ") for l in lines), "RETR over STLS")
    p.quit()

elif scenario == "ssl":
    p = poplib.POP3_SSL("localhost", sport, context=ctx, timeout=20)
    check(p.getwelcome().startswith(b"+OK POP server Postern"), "greeting")
    p.user(user)
    p.pass_(password)
    count, _ = p.stat()
    for i in range(1, count + 1):
        p.retr(i)
    p.dele(1)
    p.quit()

elif scenario == "wrongpass":
    p = poplib.POP3("localhost", port, timeout=20)
    p.user(user)
    try:
        p.pass_("not-the-password")
    except poplib.error_proto as e:
        check(b"[AUTH]" in e.args[0], "no [AUTH] code: %r" % e.args)
    else:
        raise SystemExit("FAIL: wrong password accepted")
    p.quit()

elif scenario == "xtnd":
    p = poplib.POP3("localhost", port, timeout=20)
    p.user(user)
    p.pass_(password)
    resp, lines, _ = p._longcmd("XTND STATS")
    check(resp == b"+OK Statistics follow", resp)
    names = [l.split(b" : ")[0] for l in lines if b" : " in l]
    check(names[0] == b"Version Number" and b"Auth Failures" in names, names)
    check(lines[-1].endswith(user.encode()), lines[-2:])
    check(p._shortcmd("XTND LOGLEVEL DEBUG") == b"+OK logging level changed to debug", "loglevel")
    p.quit()

elif scenario == "shutdown":
    p = poplib.POP3("localhost", port, timeout=20)
    p.user(user)
    p.pass_(password)
    check(p._shortcmd("XTND SHUTDOWN").startswith(b"+OK orderly shutdown started"), "XTND SHUTDOWN")
    # The session goes on until the client ends it.
    check(p.noop() == b"+OK", "NOOP after XTND SHUTDOWN")
    p.quit()

else:
    raise SystemExit("unknown scenario " + scenario)

print("ok " + scenario)
