package outbound

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pytake/pytake/internal/apperr"
)

// fill puts the JSON encoding of v where body has @@.
func fill(body, v string) string {
	b, _ := json.Marshal(v)
	return strings.Replace(body, "@@", string(b), 1)
}

// wide is n characters of two bytes each, so byte counting would fail.
func wide(n int) string { return strings.Repeat("é", n) }

func ascii(n int) string { return strings.Repeat("a", n) }

func link(n int) string {
	const prefix = "https://x.example/"
	if n < len(prefix) {
		return prefix[:n]
	}
	return prefix + ascii(n-len(prefix))
}

const (
	buttonsAt = `{"to":"5511999999999","interactive":{"type":"button",%s"body":{"text":%s},"action":{"buttons":[{"type":"reply","reply":{"id":%s,"title":%s}}]}}}`
	listAt    = `{"to":"5511999999999","interactive":{"type":"list",%s"body":{"text":%s},"action":{"button":%s,"sections":[{%s"rows":[{"id":%s,"title":%s%s}]}]}}}`
	tmplAt    = `{"to":"5511999999999","template":{"name":%s,"language":{"code":"pt_BR"},"components":[{"type":"%s",%s"parameters":[{"type":"%s","%s":%s}]}]}}`
)

// TestLimits checks every length limit just under, at and just over it (and
// empty, for required fields), and that the error names the field.
func TestLimits(t *testing.T) {
	q := `"x"`
	cases := []struct {
		path     string
		max      int
		required bool
		gen      func(int) string
		body     string
	}{
		{"text.body", 4096, true, wide, `{"to":"5511999999999","text":{"body":@@}}`},
		{"text", 4096, true, wide, `{"to":"5511999999999","text":@@}`},
		{"image.caption", 1024, false, wide, `{"to":"5511999999999","image":{"id":"1","caption":@@}}`},
		{"video.caption", 1024, false, wide, `{"to":"5511999999999","video":{"id":"1","caption":@@}}`},
		{"document.caption", 1024, false, wide, `{"to":"5511999999999","document":{"id":"1","caption":@@}}`},
		{"document.filename", 240, false, wide, `{"to":"5511999999999","document":{"id":"1","filename":@@}}`},
		{"image.link", 2048, true, link, `{"to":"5511999999999","image":{"link":@@}}`},
		{"biz_opaque_callback_data", 512, false, wide, `{"to":"5511999999999","text":"x","biz_opaque_callback_data":@@}`},

		{"interactive.body.text", 1024, true, wide, fmt.Sprintf(buttonsAt, "", "@@", q, q)},
		{"interactive.header.text", 60, true, wide, fmt.Sprintf(buttonsAt, `"header":{"type":"text","text":@@},`, q, q, q)},
		{"interactive.footer.text", 60, true, wide, fmt.Sprintf(buttonsAt, `"footer":{"text":@@},`, q, q, q)},
		{"interactive.action.buttons[0].reply.id", 256, true, wide, fmt.Sprintf(buttonsAt, "", q, "@@", q)},
		{"interactive.action.buttons[0].reply.title", 20, true, wide, fmt.Sprintf(buttonsAt, "", q, q, "@@")},

		{"interactive.body.text", 4096, true, wide, fmt.Sprintf(listAt, "", "@@", q, "", q, q, "")},
		{"interactive.header.text", 60, true, wide, fmt.Sprintf(listAt, `"header":{"type":"text","text":@@},`, q, q, "", q, q, "")},
		{"interactive.footer.text", 60, true, wide, fmt.Sprintf(listAt, `"footer":{"text":@@},`, q, q, "", q, q, "")},
		{"interactive.action.button", 20, true, wide, fmt.Sprintf(listAt, "", q, "@@", "", q, q, "")},
		{"interactive.action.sections[0].title", 24, false, wide, fmt.Sprintf(listAt, "", q, q, `"title":@@,`, q, q, "")},
		{"interactive.action.sections[0].rows[0].id", 200, true, wide, fmt.Sprintf(listAt, "", q, q, "", "@@", q, "")},
		{"interactive.action.sections[0].rows[0].title", 24, true, wide, fmt.Sprintf(listAt, "", q, q, "", q, "@@", "")},
		{"interactive.action.sections[0].rows[0].description", 72, false, wide, fmt.Sprintf(listAt, "", q, q, "", q, q, `,"description":@@`)},

		{"interactive.body.text", 1024, true, wide, `{"to":"5511999999999","interactive":{"type":"cta_url","body":{"text":@@},"action":{"name":"cta_url","parameters":{"display_text":"x","url":"https://x.example"}}}}`},
		{"interactive.action.parameters.display_text", 20, true, wide, `{"to":"5511999999999","interactive":{"type":"cta_url","body":{"text":"x"},"action":{"name":"cta_url","parameters":{"display_text":@@,"url":"https://x.example"}}}}`},
		{"interactive.action.parameters.url", 2048, true, link, `{"to":"5511999999999","interactive":{"type":"cta_url","body":{"text":"x"},"action":{"name":"cta_url","parameters":{"display_text":"x","url":@@}}}}`},

		{"template.name", 512, true, ascii, fmt.Sprintf(tmplAt, "@@", "body", "", "text", "text", q)},
		{"template.components[0].parameters[0].text", 1024, true, wide, fmt.Sprintf(tmplAt, `"t"`, "body", "", "text", "text", "@@")},
		{"template.components[0].parameters[0].text", 60, true, wide, fmt.Sprintf(tmplAt, `"t"`, "header", "", "text", "text", "@@")},
		{"template.components[0].parameters[0].text", 60, true, wide, fmt.Sprintf(tmplAt, `"t"`, "footer", "", "text", "text", "@@")},
		{"template.components[0].parameters[0].text", 1024, true, wide, fmt.Sprintf(tmplAt, `"t"`, "button", `"sub_type":"url","index":"0",`, "text", "text", "@@")},
		{"template.components[0].parameters[0].coupon_code", 15, true, wide, fmt.Sprintf(tmplAt, `"t"`, "button", `"sub_type":"copy_code","index":"0",`, "coupon_code", "coupon_code", "@@")},
		{"template.components[0].parameters[0].payload", 1024, true, wide, fmt.Sprintf(tmplAt, `"t"`, "button", `"sub_type":"quick_reply","index":"0",`, "payload", "payload", "@@")},

		{"location.name", 1000, false, wide, `{"to":"5511999999999","location":{"latitude":0,"longitude":0,"name":@@}}`},
		{"location.address", 1000, false, wide, `{"to":"5511999999999","location":{"latitude":0,"longitude":0,"address":@@}}`},
		{"reaction.emoji", 32, false, wide, `{"to":"5511999999999","reaction":{"message_id":"wamid.X","emoji":@@}}`},
	}
	for _, tc := range cases {
		sizes := []int{1, tc.max - 1, tc.max, tc.max + 1}
		if tc.required {
			sizes = append(sizes, 0)
		}
		for _, n := range sizes {
			if tc.gen == nil {
				continue
			}
			value := tc.gen(n)
			wantOK := n <= tc.max && (n > 0 || !tc.required)
			if tc.path == "image.link" || tc.path == "interactive.action.parameters.url" {
				wantOK = wantOK && n >= len("https://x.example")
			}
			t.Run(fmt.Sprintf("%s/%d/%d", tc.path, tc.max, n), func(t *testing.T) {
				body := fill(tc.body, value)
				_, err := Parse([]byte(body))
				switch {
				case wantOK && err != nil:
					t.Fatalf("rejected: %v %+v", err, apperr.DetailsOf(err))
				case !wantOK && err == nil:
					t.Fatal("accepted")
				case !wantOK && !hasField(err, tc.path):
					t.Fatalf("error does not name %s: %+v", tc.path, apperr.DetailsOf(err))
				case !wantOK && len(apperr.DetailsOf(err)) != 1:
					t.Fatalf("want exactly one problem, got %+v", apperr.DetailsOf(err))
				}
			})
		}
	}
}

// TestCountLimits: buttons, sections and rows, at and past their limits;
// the error names the first item too many.
func TestCountLimits(t *testing.T) {
	button := func(i int) string {
		return fmt.Sprintf(`{"type":"reply","reply":{"id":"b%d","title":"B%d"}}`, i, i)
	}
	buttons := func(n int) string {
		var items []string
		for i := 0; i < n; i++ {
			items = append(items, button(i))
		}
		return `{"to":"5511999999999","interactive":{"type":"button","body":{"text":"x"},"action":{"buttons":[` + strings.Join(items, ",") + `]}}}`
	}
	// sections(s, r): s sections of r rows each.
	sections := func(s, r int) string {
		var secs []string
		id := 0
		for i := 0; i < s; i++ {
			var rows []string
			for j := 0; j < r; j++ {
				rows = append(rows, fmt.Sprintf(`{"id":"r%d","title":"R"}`, id))
				id++
			}
			secs = append(secs, fmt.Sprintf(`{"title":"S%d","rows":[%s]}`, i, strings.Join(rows, ",")))
		}
		return `{"to":"5511999999999","interactive":{"type":"list","body":{"text":"x"},"action":{"button":"b","sections":[` + strings.Join(secs, ",") + `]}}}`
	}
	cases := []struct {
		name string
		body string
		fail string // the field named, "" when accepted
	}{
		{"1 button", buttons(1), ""},
		{"2 buttons", buttons(2), ""},
		{"3 buttons", buttons(3), ""},
		{"4 buttons", buttons(4), "interactive.action.buttons[3]"},
		{"0 buttons", buttons(0), "interactive.action.buttons"},
		{"1 section of 10 rows", sections(1, 10), ""},
		{"1 section of 11 rows", sections(1, 11), "interactive.action.sections[0].rows[10]"},
		{"10 sections of 1 row", sections(10, 1), ""},
		{"9 sections of 1 row", sections(9, 1), ""},
		{"11 sections of 1 row", sections(11, 1), "interactive.action.sections[10]"},
		{"2 sections of 5 rows", sections(2, 5), ""},
		{"2 sections of 6 rows", sections(2, 6), "interactive.action.sections[1].rows[4]"},
		{"0 sections", sections(0, 0), "interactive.action.sections"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.body))
			switch {
			case tc.fail == "" && err != nil:
				t.Fatalf("rejected: %v %+v", err, apperr.DetailsOf(err))
			case tc.fail != "" && !hasField(err, tc.fail):
				t.Fatalf("error does not name %s: %v %+v", tc.fail, err, apperr.DetailsOf(err))
			}
		})
	}
}
