package api

import "testing"

// TestSafeFilename: the name Meta shows the customer for a document keeps
// no path, quotes, controls, nor the Unicode format characters (bidi
// overrides, zero-width) that make "invoice\u202Efdp.exe" read as
// "invoiceexe.pdf".
func TestSafeFilename(t *testing.T) {
	cases := []struct{ in, want string }{
		{"invoice.pdf", "invoice.pdf"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\x\a.pdf`, "a.pdf"},
		{"a\"b\r\n.pdf", "ab.pdf"},
		{"invoice\u202efdp.exe", "invoicefdp.exe"},
		{"pay\u200bment\u2066.pdf", "payment.pdf"},
		{"relatório de março.pdf", "relatório de março.pdf"},
		{"\u202e", "document"},
		{"", "document"},
	}
	for _, tc := range cases {
		if got := safeFilename(tc.in, "document"); got != tc.want {
			t.Errorf("safeFilename(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
