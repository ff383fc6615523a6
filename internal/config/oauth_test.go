package config

import "testing"

func TestCheckOAuth(t *testing.T) {
	ok := []OAuthConfig{
		{},
		{Issuer: "https://idp", Audience: "postern", JWKSURL: "https://idp/jwks"},
		{Issuer: "https://idp", Audience: "postern", JWKSURL: "http://127.0.0.1:8080/jwks"},
		{Issuer: "https://idp", Audience: "postern", JWKSURL: "http://[::1]:8080/jwks"},
		{Issuer: "i", Audience: "a", IntrospectionURL: "https://idp/introspect", ClientID: "c", ClientSecretFile: "/s"},
	}
	bad := []OAuthConfig{
		{Issuer: "https://idp"},
		{Audience: "postern", JWKSURL: "https://idp/jwks"},
		{Issuer: "i", Audience: "a"},
		{Issuer: "i", Audience: "a", JWKSURL: "http://idp.example/jwks"},
		{Issuer: "i", Audience: "a", JWKSURL: "ftp://127.0.0.1/jwks"},
		{Issuer: "i", Audience: "a", JWKSURL: "https://idp/jwks", IntrospectionURL: "https://idp/i", ClientID: "c", ClientSecretFile: "/s"},
		{Issuer: "i", Audience: "a", IntrospectionURL: "https://idp/i"},
	}
	for _, o := range ok {
		if msg := checkOAuth(&Config{OAuth: o}); msg != "" {
			t.Errorf("%+v: %s", o, msg)
		}
	}
	for _, o := range bad {
		if msg := checkOAuth(&Config{OAuth: o}); msg == "" {
			t.Errorf("%+v accepted", o)
		}
	}
}
