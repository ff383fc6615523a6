package auth

import (
	"bytes"
	"context"
	"strings"
	"testing"
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
	for _, s := range []string{rfc7677ClientFirst, "y,,n=u,r=a", "n,a=u=2C,n=u=3D,r=x,e=1", "p=tls-unique,,n=u,r=a", "n,,m=x,n=u,r=a", "n,,n==,r=a"} {
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
