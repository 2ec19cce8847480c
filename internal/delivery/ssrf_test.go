package delivery

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBlocked(t *testing.T) {
	tests := []struct {
		addr    string
		blocked bool
		reason  string // a substring of the reason, when blocked
	}{
		// IPv4, public.
		{"8.8.8.8", false, ""},
		{"1.1.1.1", false, ""},
		{"93.184.215.14", false, ""},
		{"100.63.255.255", false, ""},
		{"100.128.0.0", false, ""},
		{"172.15.255.255", false, ""},
		{"172.32.0.0", false, ""},
		{"192.0.1.1", false, ""},
		{"198.17.255.255", false, ""},
		{"198.20.0.0", false, ""},
		{"223.255.255.255", false, ""},
		// IPv4, blocked.
		{"0.0.0.0", true, "this network"},
		{"0.1.2.3", true, "this network"},
		{"10.0.0.1", true, "private"},
		{"10.255.255.255", true, "private"},
		{"100.64.0.1", true, "carrier-grade NAT"},
		{"100.127.255.255", true, "carrier-grade NAT"},
		{"127.0.0.1", true, "loopback"},
		{"127.255.255.254", true, "loopback"},
		{"169.254.169.254", true, "link-local"},
		{"172.16.0.1", true, "private"},
		{"172.31.255.255", true, "private"},
		{"192.0.0.8", true, "IETF"},
		{"192.0.2.1", true, "documentation"},
		{"192.168.1.1", true, "private"},
		{"198.18.0.1", true, "benchmarking"},
		{"198.19.255.255", true, "benchmarking"},
		{"198.51.100.7", true, "documentation"},
		{"203.0.113.9", true, "documentation"},
		{"224.0.0.1", true, "multicast"},
		{"239.255.255.250", true, "multicast"},
		{"240.0.0.1", true, "reserved"},
		{"255.255.255.255", true, "broadcast"},
		// IPv6, public.
		{"2606:4700:4700::1111", false, ""},
		{"2a00:1450:4001:81b::200e", false, ""},
		// IPv6, blocked.
		{"::", true, "unspecified"},
		{"::1", true, "loopback"},
		{"fe80::1", true, "link-local"},
		{"fe80::1%eth0", true, "link-local"},
		{"febf:ffff::1", true, "link-local"},
		{"fc00::1", true, "unique-local"},
		{"fd12:3456:789a::1", true, "unique-local"},
		{"ff02::1", true, "multicast"},
		{"ff05::1:3", true, "multicast"},
		{"2001:db8::1", true, "documentation"},
		{"::127.0.0.1", true, "IPv4-compatible"},
		{"100::1", true, "discard"},
		{"2001::1", true, "Teredo"},
		{"fec0::1", true, "site-local"},
		// IPv4-mapped: judged as IPv4.
		{"::ffff:127.0.0.1", true, "loopback"},
		{"::ffff:10.1.2.3", true, "private"},
		{"::ffff:169.254.169.254", true, "link-local"},
		{"::ffff:7f00:1", true, "loopback"},
		{"::ffff:8.8.8.8", false, ""},
		// NAT64 64:ff9b::/96: the embedded IPv4 decides.
		{"64:ff9b::8.8.8.8", false, ""},
		{"64:ff9b::127.0.0.1", true, "loopback"},
		{"64:ff9b::a9fe:a9fe", true, "link-local"},
		{"64:ff9b::192.168.0.1", true, "private"},
		{"64:ff9b:1::8.8.8.8", true, "local-use NAT64"},
		// 6to4 2002::/16: the embedded IPv4 (bits 16-47) decides.
		{"2002:0808:0808::1", false, ""},
		{"2002:7f00:0001::1", true, "loopback"},
		{"2002:0a00:0001::1", true, "private"},
		{"2002:a9fe:a9fe::", true, "link-local"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			ip := netip.MustParseAddr(tt.addr)
			got := Blocked(ip)
			require.Equal(t, tt.blocked, got, "Blocked(%s) = %v, want %v", tt.addr, got, tt.blocked)
			r := blockReason(ip)
			assert.Contains(t, r, tt.reason, "reason %q does not mention %q", r, tt.reason)
		})
	}
	assert.True(t, Blocked(netip.Addr{}), "the zero Addr is not blocked")
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		raw       string
		allowHTTP bool
		err       string // substring of the error; "" for valid
		blocked   bool   // the error wraps ErrBlockedAddress
	}{
		{"https://hooks.example.com/pytake", false, "", false},
		{"https://hooks.example.com:8443/p?x=1", false, "", false},
		{"https://8.8.8.8/hook", false, "", false},
		{"https://[2606:4700:4700::1111]/hook", false, "", false},
		{"http://localhost:8080/hook", true, "", false}, // a name: checked at dial time
		{"https://hooks.example.com./x", false, "", false},
		{"http://hooks.example.com/", false, "https", false},
		{"ftp://hooks.example.com/", true, "scheme", false},
		{"javascript:alert(1)", true, "absolute", false},
		{"/relative/path", false, "absolute", false},
		{"hooks.example.com/x", false, "absolute", false},
		{"https://", false, "no host", false},
		{"https:///path", false, "no host", false},
		{"https://user:pass@hooks.example.com/", false, "user name", false},
		{"https://user@hooks.example.com/", false, "user name", false},
		{"https://hooks.example.com:0/", false, "port", false},
		{"https://hooks.example.com:70000/", false, "port", false},
		{"https://hooks.example.com:http/", false, "invalid port", false},
		{"https://exa mple.com/", false, "invalid character", false},
		{"https://127.0.0.1/", false, "loopback", true},
		{"http://127.0.0.1:8080/", true, "loopback", true},
		{"https://10.0.0.1/", false, "private address", true},
		{"https://169.254.169.254/latest/meta-data/", false, "link-local", true},
		{"https://[::1]/", false, "loopback", true},
		{"https://[::ffff:127.0.0.1]/", false, "loopback", true},
		{"https://[::ffff:a00:1]/", false, "private", true},
		{"https://[fe80::1%25eth0]/", false, "link-local", true},
		{"https://[64:ff9b::10.0.0.1]/", false, "private", true},
		{"https://[2002:c0a8:0101::1]/", false, "private", true},
		{"https://0.0.0.0/", false, "this network", true},
		{"https://2130706433/", false, "numeric", false},
		{"https://0x7f000001/", false, "numeric", false},
		{"https://127.1/", false, "numeric", false},
		{"https://0177.0.0.1/", false, "numeric", false},
		{"https://127.0.0.1./", false, "numeric", false},
		{"https://1.2.3.4.5/", false, "numeric", false},
		{"https://" + strings.Repeat("a", MaxURLLength) + ".com/", false, "longer", false},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			u, err := CheckURL(tt.raw, tt.allowHTTP)
			if tt.err == "" {
				require.NoError(t, err, "CheckURL")
				assert.Equal(t, tt.raw, u.String(), "URL = %s, want %s", u, tt.raw)
				return
			}
			require.Error(t, err, "CheckURL accepted %s", tt.raw)
			assert.ErrorIs(t, err, ErrInvalidURL, "%v does not wrap ErrInvalidURL", err)
			assert.Equal(t, tt.blocked, errors.Is(err, ErrBlockedAddress), "%v: wraps ErrBlockedAddress = %v, want %v", err, !tt.blocked, tt.blocked)
			assert.Contains(t, err.Error(), tt.err, "error %q does not mention %q", err, tt.err)
		})
	}
}

func TestCheckURLMessage(t *testing.T) {
	_, err := CheckURL("https://10.0.0.1/hook", false)
	if want := "delivery: invalid webhook URL: host 10.0.0.1 is not allowed: private address"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

// hookServer counts the requests it serves; /redirect answers 302.
func hookServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, "/hook", http.StatusFound)
	})
	srv := httptest.NewServer(mux) // 127.0.0.1
	t.Cleanup(srv.Close)
	return srv, &hits
}

func post(t *testing.T, c *http.Client, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(`{}`))
	require.NoError(t, err)
	resp, err := c.Do(req)
	if err == nil {
		t.Cleanup(func() { resp.Body.Close() })
	}
	return resp, err
}

func TestClientLoopback(t *testing.T) {
	srv, hits := hookServer(t)
	localhost := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)

	guarded := NewClient(ClientOptions{})
	for _, u := range []string{srv.URL + "/hook", localhost + "/hook"} {
		_, err := post(t, guarded, u)
		if !errors.Is(err, ErrBlockedAddress) {
			t.Errorf("POST %s: err = %v, want ErrBlockedAddress", u, err)
		} else if !strings.Contains(err.Error(), "loopback") {
			t.Errorf("POST %s: %v does not say loopback", u, err)
		}
	}
	n := hits.Load()
	require.Equal(t, int32(0), n, "the server was reached %d times", n)

	local := NewClient(ClientOptions{AllowLoopback: true})
	for _, u := range []string{srv.URL + "/hook", localhost + "/hook"} {
		resp, err := post(t, local, u)
		require.NoError(t, err, "POST %s with AllowLoopback: %v", u, err)
		assert.Equal(t, http.StatusNoContent, resp.StatusCode, "POST %s: status %d", u, resp.StatusCode)
	}
	// AllowLoopback allows loopback only. Control runs before connecting,
	// so nothing leaves the machine.
	for _, u := range []string{"http://10.255.255.1:9/", "http://169.254.169.254/", "http://[fd00::1]:9/", "http://[::ffff:192.168.0.1]:9/"} {
		_, err := post(t, local, u)
		assert.ErrorIs(t, err, ErrBlockedAddress, "POST %s with AllowLoopback: err = %v, want ErrBlockedAddress", u, err)
	}
}

func TestClientNoRedirects(t *testing.T) {
	srv, hits := hookServer(t)
	resp, err := post(t, NewClient(ClientOptions{AllowLoopback: true}), srv.URL+"/redirect")
	require.NoError(t, err)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/hook" {
		t.Errorf("got %d Location %q, want the 302 itself", resp.StatusCode, resp.Header.Get("Location"))
	}
	n := hits.Load()
	assert.Equal(t, int32(1), n, "%d requests served, want 1: the redirect was followed", n)
	got := Classify(resp.StatusCode, nil)
	assert.Equal(t, Retry, got, "Classify(302) = %v, want retry", got)
}

// A DNS name that resolves to a private address is refused when dialled,
// even with AllowLoopback.
func TestClientResolvedPrivateAddress(t *testing.T) {
	var queries atomic.Int32
	resolver := &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			client, server := net.Pipe()
			go serveDNS(server, &queries)
			return client, nil
		},
	}
	c := NewClient(ClientOptions{AllowLoopback: true, Resolver: resolver, Timeout: 5 * time.Second})
	_, err := post(t, c, "http://hooks.rebind.test.:8080/hook")
	require.ErrorIs(t, err, ErrBlockedAddress, "err = %v, want ErrBlockedAddress", err)
	if !strings.Contains(err.Error(), "10.1.2.3") && !strings.Contains(err.Error(), "fd00::53") {
		t.Errorf("%v does not name the address dialled", err)
	}
	assert.NotEqual(t, int32(0), queries.Load(), "the resolver was not asked")
}

// serveDNS answers DNS-over-TCP queries (a 2-byte length, then the
// message): A with 10.1.2.3, AAAA with fd00::53.
func serveDNS(conn net.Conn, queries *atomic.Int32) {
	defer conn.Close()
	for {
		var n uint16
		if err := binary.Read(conn, binary.BigEndian, &n); err != nil {
			return
		}
		q := make([]byte, n)
		if _, err := io.ReadFull(conn, q); err != nil || len(q) < 12 {
			return
		}
		queries.Add(1)
		end := 12 // end of the question's name
		for end < len(q) && q[end] != 0 {
			end += int(q[end]) + 1
		}
		end += 5 // the root label, type, class
		if end > len(q) {
			return
		}
		qtype := binary.BigEndian.Uint16(q[end-4:])
		var rdata []byte
		switch qtype {
		case 1:
			rdata = []byte{10, 1, 2, 3}
		case 28:
			a := netip.MustParseAddr("fd00::53").As16()
			rdata = a[:]
		}
		resp := append([]byte(nil), q[:2]...)                   // id
		resp = append(resp, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0) // response, RD, RA; 1 question
		if rdata != nil {
			resp[7] = 1 // 1 answer
		}
		resp = append(resp, q[12:end]...)
		if rdata != nil {
			resp = append(resp, 0xc0, 12) // the question's name
			resp = binary.BigEndian.AppendUint16(resp, qtype)
			resp = append(resp, 0, 1, 0, 0, 0, 60) // IN, TTL 60
			resp = binary.BigEndian.AppendUint16(resp, uint16(len(rdata)))
			resp = append(resp, rdata...)
		}
		out := binary.BigEndian.AppendUint16(nil, uint16(len(resp)))
		if _, err := conn.Write(append(out, resp...)); err != nil {
			return
		}
	}
}

func TestGuardControl(t *testing.T) {
	tests := []struct {
		network, address string
		allowLoopback    bool
		ok               bool
	}{
		{"tcp4", "93.184.215.14:443", false, true},
		{"tcp6", "[2606:4700:4700::1111]:443", false, true},
		{"tcp4", "127.0.0.1:80", false, false},
		{"tcp4", "127.0.0.1:80", true, true},
		{"tcp6", "[::1]:80", true, true},
		{"tcp6", "[::ffff:127.0.0.1]:80", true, true},
		{"tcp6", "[::ffff:127.0.0.1]:80", false, false},
		{"tcp4", "10.0.0.1:443", true, false},
		{"tcp6", "[fe80::1%eth0]:443", false, false},
		{"tcp6", "[64:ff9b::7f00:1]:443", true, false},
		{"udp4", "8.8.8.8:53", false, false},
		{"tcp4", "not-an-address", false, false},
	}
	for _, tt := range tests {
		err := guard{allowLoopback: tt.allowLoopback}.control(tt.network, tt.address, nil)
		assert.Equal(t, tt.ok, err == nil, "control(%s, %s, allowLoopback=%v) = %v, want ok=%v", tt.network, tt.address, tt.allowLoopback, err, tt.ok)
		if err != nil && !errors.Is(err, ErrBlockedAddress) {
			t.Errorf("%v does not wrap ErrBlockedAddress", err)
		}
	}
}

func TestNewClientSettings(t *testing.T) {
	c := NewClient(ClientOptions{})
	assert.Equal(t, 10*time.Second, c.Timeout, "Timeout = %v, want 10s", c.Timeout)
	if c.CheckRedirect == nil || c.CheckRedirect(nil, nil) != http.ErrUseLastResponse {
		t.Error("CheckRedirect does not stop redirects")
	}
	tr, ok := c.Transport.(*http.Transport)
	require.True(t, ok, "Transport is %T", c.Transport)
	if tr.Proxy != nil {
		t.Error("a proxy is configured")
	}
	if tr.TLSHandshakeTimeout <= 0 || tr.ResponseHeaderTimeout != 10*time.Second || tr.MaxIdleConnsPerHost != 4 {
		t.Errorf("TLSHandshakeTimeout %v, ResponseHeaderTimeout %v, MaxIdleConnsPerHost %d", tr.TLSHandshakeTimeout, tr.ResponseHeaderTimeout, tr.MaxIdleConnsPerHost)
	}
	c = NewClient(ClientOptions{Timeout: 3 * time.Second, ResponseHeaderTimeout: time.Second, MaxIdleConnsPerHost: 9})
	tr = c.Transport.(*http.Transport)
	if c.Timeout != 3*time.Second || tr.ResponseHeaderTimeout != time.Second || tr.MaxIdleConnsPerHost != 9 {
		t.Errorf("options ignored: %v %v %d", c.Timeout, tr.ResponseHeaderTimeout, tr.MaxIdleConnsPerHost)
	}
}
