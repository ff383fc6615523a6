package auth

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/postern/postern/internal/store"
)

func FuzzParsePlain(f *testing.F) {
	for _, s := range []string{"\x00tim\x00tanstaaf", "Ursel\x00Kurt\x00xipj3plmq", "", "\x00\x00", "a\x00b\x00c\x00d", "\x00\xff\x00x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		authzid, authcid, passwd, err := parsePlain(msg)
		if err != nil {
			return
		}
		if authcid == "" || passwd == "" {
			t.Fatal("accepted an empty authcid or password")
		}
		if got := authzid + "\x00" + authcid + "\x00" + passwd; got != string(msg) {
			t.Fatalf("fields %q do not rebuild the message %q", got, msg)
		}
	})
}

func FuzzParseSCRAMClientFirst(f *testing.F) {
	for _, s := range []string{rfc7677ClientFirst, "y,,n=u,r=a", "n,a=u=2C,n=u=3D,r=x,e=1", "p=tls-unique,,n=u,r=a", "n,,m=x,n=u,r=a", "n,,n==,r=a",
		"p=tls-exporter,,n=u,r=a", "p=tls-exporter,a=u,n=u,r=a", "p=,,n=u,r=a", "p=x y,,n=u,r=a"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		cf, err := parseSCRAMClientFirst(msg)
		if err != nil {
			return
		}
		if cf.gs2Header+cf.bare != string(msg) {
			t.Fatalf("header %q + bare %q != %q", cf.gs2Header, cf.bare, msg)
		}
		if cf.user == "" || !validNonce(cf.nonce) {
			t.Fatalf("accepted user %q nonce %q", cf.user, cf.nonce)
		}
	})
}

func FuzzParseSCRAMClientFinal(f *testing.F) {
	for _, s := range []string{rfc7677ClientFinal, "c=biws,r=a,x=1,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", "c=,r=a,p="} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		cf, err := parseSCRAMClientFinal(msg)
		if err != nil {
			return
		}
		if !bytes.HasPrefix(msg, []byte(cf.withoutProof+",p=")) || len(cf.proof) != 32 {
			t.Fatalf("withoutProof %q / proof %x inconsistent with %q", cf.withoutProof, cf.proof, msg)
		}
	})
}

// FuzzSCRAMExchange drives the whole server mechanism with two arbitrary
// client messages against the RFC 7677 account: it must never panic and
// never succeed without the right proof.
func FuzzSCRAMExchange(f *testing.F) {
	f.Add([]byte(rfc7677ClientFirst), []byte(rfc7677ClientFinal))
	f.Add([]byte("n,,n=nobody,r=x"), []byte("c=biws,r=x,p=AAAA"))
	f.Add([]byte{}, []byte{})
	e := newRFC7677Env(f)
	f.Fuzz(func(t *testing.T, first, final []byte) {
		m, _ := e.auth.NewMechanism(MechSCRAMSHA256, ConnInfo{})
		_, done, err := m.Next(context.Background(), first)
		if err != nil || done {
			return
		}
		_, _, err = m.Next(context.Background(), final)
		if _, ok := m.Identity(); ok != (err == nil) {
			t.Fatalf("Identity ok %v with err %v", ok, err)
		}
		if err == nil && (string(first) != rfc7677ClientFirst || !strings.HasSuffix(string(final), "AndVQ=")) {
			t.Fatalf("succeeded with %q / %q", first, final)
		}
	})
}

func FuzzParsePasswordLine(f *testing.F) {
	for _, s := range []string{
		"sha512crypt:{SHA512-CRYPT}$6$Jkz7W.BbUuo/ovTr$OdWVRuGRI1vwuP:1000:1000::/home/x::",
		"ssha:{SSHA}yzPeU8GcP4GU87OS9S5DVcBB3X6IJko1:1000:1000::/home",
		"pbkdf2:{PBKDF2}$1$tHBIJkVb9zR0UEcY$5000$c5ad1a305b4af00a0a16",
		"plain:{PLAIN}correct horse:::",
		"yes5:$y$j9T$fSfrEWCSlBNGvNKL7o11A0$lVZm.D.p2VRvD8jJDR9csfklq/NOB7gKUXk:19700:0:99999:7:::",
		"locked:!$6$rounds=5000$Zfb549icEHfOpZQt$x:19700:0:99999:7::19000:",
		"apr:$apr1$cztK.IrR$R31MoNLI/pgVDMAwmrAaF0",
		"a@b.c:{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$vvNvAVDROO$abc",
		"x:{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$TOzY2FLpQieQx$y",
		"# comment", "", "nopass:*:1:::::", "b:$2y$05$cVJMlyDIuEUWt0weg4Mnqewe0jM75RCbP",
	} {
		for _, format := range []string{FormatDovecot, FormatShadow, FormatHtpasswd} {
			f.Add(format, s)
		}
	}
	f.Fuzz(func(t *testing.T, format, line string) {
		u, err := ParsePasswordLine(format, line)
		if err != nil {
			return
		}
		if u.Hash == "" || u.Scheme == "" || store.ValidateAccountName(u.Name) != nil {
			t.Fatalf("accepted %+v", u)
		}
		if scheme, err := CheckHash(u.Hash); err != nil || scheme != u.Scheme {
			t.Fatalf("CheckHash(%q) = %q, %v; the line said %q", u.Hash, scheme, err, u.Scheme)
		}
	})
}

func FuzzYescryptSetting(f *testing.F) {
	for _, s := range []string{
		"$y$j9T$rvEyWgGbZPf/bC117D6dn/$6Q0nzszpWzj307CUreoqF2PmGc2JVDSGiCper3DGz83",
		"$y$jBT$YZC/p4KlOC.cMtJZfWEsG1$gqSBL8O6n2DCd8lirYyD3lgl/J1QHXL58zr3SWarN15",
		"$y$j9T5$abc$x", "$y$zzzzzzzzzz$$", "$y$j/T$..$", "$7$C6..../....SodiumChloride$x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseYescrypt(s)
		if err != nil {
			return
		}
		if h.yescryptParams.check() != nil || 128*uint64(h.r)*h.n > maxYescryptMemory {
			t.Fatalf("accepted parameters %+v", h.yescryptParams)
		}
		// The salt's encoding is canonical: it re-encodes to itself.
		if parts := strings.Split(s, "$"); encode64Crypt(h.salt) != parts[3] {
			t.Fatalf("salt %q re-encodes to %q", parts[3], encode64Crypt(h.salt))
		}
	})
}

func FuzzBearerMessage(f *testing.F) {
	for _, s := range []string{
		"n,,\x01auth=Bearer tok\x01\x01", "n,a=alice,\x01host=x\x01port=143\x01auth=Bearer tok\x01\x01",
		"n,a=al=2Cice,\x01auth=Bearer t\x01\x01", "y,,\x01auth=bearer t\x01\x01", "p=x,,\x01auth=Bearer t\x01\x01",
		"user=alice\x01auth=Bearer tok\x01\x01", "n,,\x01\x01", "n,,\x01auth=Bearer a\x01auth=Bearer b\x01\x01", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		if authzid, token, err := parseOAuthBearer(msg); err == nil {
			if token == "" || len(token) > MaxBearerToken || strings.ContainsRune(token, 1) || strings.ContainsRune(authzid, 1) {
				t.Fatalf("OAUTHBEARER %q: authzid %q token %q", msg, authzid, token)
			}
		}
		if user, token, err := parseXOAuth2(msg); err == nil {
			if user == "" || token == "" || len(token) > MaxBearerToken || strings.ContainsRune(user, 1) {
				t.Fatalf("XOAUTH2 %q: user %q token %q", msg, user, token)
			}
		}
	})
}

func FuzzJWTVerifier(f *testing.F) {
	for _, s := range []string{"e30.e30.AAAA", "eyJhbGciOiJub25lIn0.e30.", "a.b.c", "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJ4In0.AAAA", ""} {
		f.Add(s)
	}
	// No key set is reachable: every token must be refused (invalid or a
	// temporary failure), never accepted, and quickly.
	v := NewTokenVerifier(OAuthOptions{Issuer: "x", Audience: "y", JWKSURL: "http://127.0.0.1:1/jwks"})
	f.Fuzz(func(t *testing.T, token string) {
		if user, err := v.VerifyToken(context.Background(), token); err == nil {
			t.Fatalf("token %q accepted as %q", token, user)
		}
	})
}
