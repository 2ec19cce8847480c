package dashboard

import (
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMessagesComplete(t *testing.T) {
	for key := range messages[langPT] {
		assert.Contains(t, messages[langEN], key, "English lacks %q", key)
	}
	for key := range messages[langEN] {
		assert.Contains(t, messages[langPT], key, "Portuguese lacks %q", key)
	}
	// Every message a page asks for by name exists (those it composes,
	// "nav."+name, are in TestPagesRender's pages).
	asks := regexp.MustCompile(`(?:w\.t\(v, |v\.T\()"([^"]+)"\)`)
	heads := regexp.MustCompile(`headCells\(w, v, ([^)]*)\)`)
	for _, file := range []string{"render.go", "pages_html.go", "dashboard.go", "pages.go", "login.go"} {
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		var keys []string
		for _, m := range asks.FindAllStringSubmatch(string(b), -1) {
			keys = append(keys, m[1])
		}
		for _, m := range heads.FindAllStringSubmatch(string(b), -1) {
			for _, k := range strings.Split(m[1], ", ") {
				if k = strings.Trim(k, `"`); k != "" {
					keys = append(keys, k)
				}
			}
		}
		for _, k := range keys {
			_, ok := messages[langPT][k]
			assert.True(t, ok, "%s asks for %q, which is not a message", file, k)
		}
	}
}

func TestSessionSeal(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	g := signer{key: []byte(strings.Repeat("k", 32))}
	s := session{OrgID: "org_1", KeyID: "key_1", ID: "sid", Expires: now.Add(time.Hour).Unix()}
	v := g.seal(s)
	got, err := g.open(v, now)
	require.NoError(t, err)
	assert.Equal(t, s, got)
	for name, bad := range map[string]string{
		"other key":     signer{key: []byte(strings.Repeat("x", 32))}.seal(s),
		"edited":        strings.Replace(v, v[5:8], "AAA", 1),
		"no signature":  v[:strings.LastIndexByte(v, '.')],
		"other version": "v2" + v[2:],
		"empty":         "",
	} {
		_, err := g.open(bad, now)
		assert.Error(t, err, name)
	}
	_, err = g.open(v, now.Add(time.Hour))
	assert.ErrorIs(t, err, errSessionExpired)
	assert.True(t, g.checkCSRF("sid", g.csrf("sid")))
	assert.False(t, g.checkCSRF("sid2", g.csrf("sid")))
	assert.False(t, g.checkCSRF("sid", ""))
}

// FuzzOpenSession: no cookie value panics the reader, and only values
// this key sealed open.
func FuzzOpenSession(f *testing.F) {
	g := signer{key: []byte(strings.Repeat("k", 32))}
	now := time.Unix(1_800_000_000, 0)
	f.Add(g.seal(session{OrgID: "o", KeyID: "k", ID: "s", Expires: now.Unix() + 10}))
	f.Add("v1..")
	f.Add("v1.e30.")
	f.Add("v1.%%%.###")
	f.Fuzz(func(t *testing.T, v string) {
		s, err := g.open(v, now)
		if err != nil {
			return
		}
		if g.seal(s) != v && !strings.HasPrefix(v, "v1.") {
			t.Fatalf("opened a value that is not a v1 seal: %q", v)
		}
		if s.OrgID == "" || s.KeyID == "" || s.Expires <= now.Unix() {
			t.Fatalf("opened an incomplete or expired session: %+v", s)
		}
	})
}

// BenchmarkNew is the dashboard's part of a cold start: the server made,
// and the first page a request shows (go test -run '^$' -bench New
// ./internal/dashboard/).
func BenchmarkNew(b *testing.B) {
	key := make([]byte, 32)
	for b.Loop() {
		s, err := New(Deps{SessionKey: key})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.render(http.StatusOK, "login", view{Lang: langPT, Title: "login.title", CSRF: "x"}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestClientBucket(t *testing.T) {
	for _, tc := range []struct{ ip, want string }{
		{"203.0.113.7", "203.0.113.7"},
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{"2001:db8:1:2::9", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"", ""},
		{"not-an-address", "not-an-address"},
	} {
		assert.Equal(t, tc.want, clientBucket(tc.ip), tc.ip)
	}
}
