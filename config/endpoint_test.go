package config

import "testing"

func TestParseEndpoint(t *testing.T) {
	cases := []struct {
		in   string
		want string
		bad  bool
	}{
		{in: "www.example.com:443", want: "www.example.com:443"},
		{in: "www.example.com", want: "www.example.com:443"},
		{in: "https://www.example.com", want: "www.example.com:443"},
		{in: "HTTPS://www.example.com:8443/path", want: "www.example.com:8443"},
		{in: "127.0.0.1:8443", want: "127.0.0.1:8443"},
		{in: "[::1]:443", want: "[::1]:443"},
		{in: "::1", want: "[::1]:443"},
		{in: "https://[2001:db8::1]:8443/", want: "[2001:db8::1]:8443"},
		{in: "host:https", bad: true},
		{in: "host:0", bad: true},
		{in: "host:65536", bad: true},
		{in: "host:0443", bad: true},
		{in: "http://host", bad: true},
		{in: "https://user@host", bad: true},
		{in: "https://host?x=1", bad: true},
		{in: "", bad: true},
		{in: ":443", bad: true},
		{in: "a b:443", bad: true},
		{in: "host:", bad: true},
		{in: "smtp://mail.example.com", want: "smtp://mail.example.com:25"},
		{in: "submission://mail.example.com", want: "smtp://mail.example.com:587"},
		{in: "SMTP://127.0.0.1:2525", want: "smtp://127.0.0.1:2525"},
		{in: "imap://mail.example.com", want: "imap://mail.example.com:143"},
		{in: "ldap://[::1]", want: "ldap://[::1]:389"},
		{in: "postgres://db.example.com", want: "postgres://db.example.com:5432"},
		{in: "xmpp-server://chat.example.com", want: "xmpp-server://chat.example.com:5269"},
		{in: "smtps://mail.example.com", want: "mail.example.com:465"},
		{in: "imaps://mail.example.com", want: "mail.example.com:993"},
		{in: "pop3s://mail.example.com", want: "mail.example.com:995"},
		{in: "ldaps://ldap.example.com", want: "ldap.example.com:636"},
		{in: "mqtts://broker.example.com", want: "broker.example.com:8883"},
		{in: "gopher://host", bad: true},
		{in: "smtp://user@host", bad: true},
		{in: "smtp://host:https", bad: true},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseEndpoint(c.in)
			if c.bad {
				if err == nil {
					t.Errorf("ParseEndpoint(%q) = %q, want an error", c.in, got)
				}
				return
			}
			if err != nil || got.String() != c.want {
				t.Errorf("ParseEndpoint(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
		})
	}
}

func FuzzParseEndpoint(f *testing.F) {
	for _, s := range []string{"www.example.com:443", "https://[::1]:8443/x", "host:https", "::1", "a:b:c", "smtp://h", "ldaps://[::1]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseEndpoint(s)
		if err != nil {
			return
		}
		// A normalised endpoint parses to itself (the scheme it came with
		// aside, which String leaves out when the port carries it).
		again, err := ParseEndpoint(got.String())
		if err != nil || again.HostPort != got.HostPort || again.StartTLS != got.StartTLS {
			t.Fatalf("ParseEndpoint(%q) = %q, which parses to %q, %v", s, got, again, err)
		}
	})
}
