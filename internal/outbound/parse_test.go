package outbound

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/jsoncheck"
)

func hasField(err error, field string) bool { return slices.Contains(apperr.Fields(err), field) }

func mustParse(t *testing.T, body string) Request {
	t.Helper()
	r, err := Parse([]byte(body))
	require.NoError(t, err, "Parse(%s): %v; details %+v", body, err, apperr.DetailsOf(err))
	return r
}

func readRequest(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/requests/" + name + ".json")
	require.NoError(t, err)
	return string(b)
}

// TestGuideExamples: every POST /v1/messages and messages.send in the
// integrations guide is accepted as written, with the content Meta needs.
func TestGuideExamples(t *testing.T) {
	cases := []struct {
		file    string
		to      string
		typ     string
		content string
	}{
		{"guide_python_text", "5511999999999", "text", `{"body":"Olá! Como posso ajudar?"}`},
		{"guide_python_image", "5511999999999", "image", `{"link":"https://example.com/image.jpg","caption":"Confira nossa promoção!"}`},
		{"guide_python_buttons", "5511999999999", "interactive",
			`{"type":"button","body":{"text":"Escolha uma opção:"},"action":{"buttons":[{"type":"reply","reply":{"id":"btn_yes","title":"Sim"}},{"type":"reply","reply":{"id":"btn_no","title":"Não"}}]}}`},
		{"guide_python_template", "5511999999999", "template",
			`{"name":"welcome_message","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":"João"}]}]}`},
		{"guide_python_order_update", "5511999999999", "template",
			`{"name":"order_update","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":"1001"},{"type":"text","text":"enviado"}]}]}`},
		{"guide_node_shopify", "5511999999999", "template",
			`{"name":"order_confirmation","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":"1001"},{"type":"text","text":"150.00"}]}]}`},
		{"guide_php_woocommerce", "5511999999999", "text", `{"body":"Seu pedido #1234 foi concluído!"}`},
		{"guide_sdk_shorthand", "5511999999999", "text", `{"body":"Olá!"}`},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			r := mustParse(t, readRequest(t, tc.file))
			assert.Equal(t, tc.to, r.To, "to %q (%s), type %q; want %q (phone), %q", r.To, r.ToKind, r.Type, tc.to, tc.typ)
			assert.Equal(t, ToPhone, r.ToKind, "to %q (%s), type %q; want %q (phone), %q", r.To, r.ToKind, r.Type, tc.to, tc.typ)
			assert.Equal(t, tc.typ, r.Type, "to %q (%s), type %q; want %q (phone), %q", r.To, r.ToKind, r.Type, tc.to, tc.typ)
			assert.Equal(t, tc.content, string(r.Content), "content\n got %s\nwant %s", r.Content, tc.content)
			if r.IsTemplate() != (tc.typ == "template") || r.FreeForm() == r.IsTemplate() {
				t.Errorf("IsTemplate %v FreeForm %v for %s", r.IsTemplate(), r.FreeForm(), tc.typ)
			}
		})
	}
}

func TestParseForms(t *testing.T) {
	cases := []struct {
		name    string
		body    string
		to      string
		kind    ToKind
		typ     string
		content string
		context string
		opaque  string
	}{
		{name: "shorthand with type", body: `{"to":"5511999999999","type":"text","text":"oi"}`,
			to: "5511999999999", kind: ToPhone, typ: "text", content: `{"body":"oi"}`},
		{name: "type inferred from the one object", body: `{"to":"5511999999999","image":{"id":"123"}}`,
			to: "5511999999999", kind: ToPhone, typ: "image", content: `{"id":"123"}`},
		{name: "null members are absent", body: `{"to":"5511999999999","type":"text","text":{"body":"x","preview_url":null},"image":null,"context":null,"biz_opaque_callback_data":null}`,
			to: "5511999999999", kind: ToPhone, typ: "text", content: `{"body":"x"}`},
		{name: "preview_url kept", body: `{"to":"5511999999999","text":{"preview_url":false,"body":"x"}}`,
			to: "5511999999999", kind: ToPhone, typ: "text", content: `{"body":"x","preview_url":false}`},
		{name: "reply and callback data", body: `{"to":"5511999999999","text":"x","context":{"message_id":"wamid.HBgN40"},"biz_opaque_callback_data":"c-1"}`,
			to: "5511999999999", kind: ToPhone, typ: "text", content: `{"body":"x"}`, context: "wamid.HBgN40", opaque: "c-1"},
		{name: "contact id", body: `{"to":"ct_01JABCDEFGHJKMNPQRSTVWXYZ0","text":"x"}`,
			to: "ct_01JABCDEFGHJKMNPQRSTVWXYZ0", kind: ToContact, typ: "text", content: `{"body":"x"}`},
		{name: "bsuid in to", body: `{"to":"US.13491208655302741918","text":"x"}`,
			to: "US.13491208655302741918", kind: ToBSUID, typ: "text", content: `{"body":"x"}`},
		{name: "bsuid in recipient", body: `{"recipient":"BR.99991208655302741918","text":"x"}`,
			to: "BR.99991208655302741918", kind: ToBSUID, typ: "text", content: `{"body":"x"}`},
		{name: "html is not escaped", body: `{"to":"5511999999999","text":"<a href=\"x\">&</a>"}`,
			to: "5511999999999", kind: ToPhone, typ: "text", content: `{"body":"<a href=\"x\">&</a>"}`},
		{name: "media id and caption, fields reordered", body: `{"to":"5511999999999","video":{"caption":"c","id":"9"}}`,
			to: "5511999999999", kind: ToPhone, typ: "video", content: `{"id":"9","caption":"c"}`},
		{name: "sticker", body: `{"to":"5511999999999","type":"sticker","sticker":{"link":"https://x.example/s.webp"}}`,
			to: "5511999999999", kind: ToPhone, typ: "sticker", content: `{"link":"https://x.example/s.webp"}`},
		{name: "empty components dropped", body: `{"to":"5511999999999","template":{"name":"hello_world","language":{"code":"en_US"},"components":[]}}`,
			to: "5511999999999", kind: ToPhone, typ: "template", content: `{"name":"hello_world","language":{"code":"en_US"}}`},
		{name: "number parameters written out exactly", body: `{"to":"5511999999999","template":{"name":"t","language":{"code":"en"},"components":[{"type":"body","parameters":[` +
			`{"type":"text","text":1001},{"type":"text","text":150.00},{"type":"text","text":-0.5},{"type":"text","text":12345678901234567890123},{"type":"text","text":1.5e3},{"type":"text","text":25E-3},{"type":"text","text":9007199254740993}]}]}}`,
			to: "5511999999999", kind: ToPhone, typ: "template",
			content: `{"name":"t","language":{"code":"en"},"components":[{"type":"body","parameters":[` +
				`{"type":"text","text":"1001"},{"type":"text","text":"150.00"},{"type":"text","text":"-0.5"},{"type":"text","text":"12345678901234567890123"},{"type":"text","text":"1500"},{"type":"text","text":"0.025"},{"type":"text","text":"9007199254740993"}]}]}`},
		{name: "component and sub_type case folded, index as number", body: `{"to":"5511999999999","template":{"name":"t","language":{"code":"en"},"components":[{"type":"BUTTON","sub_type":"QUICK_REPLY","index":0,"parameters":[{"type":"payload","payload":"p"}]}]}}`,
			to: "5511999999999", kind: ToPhone, typ: "template",
			content: `{"name":"t","language":{"code":"en"},"components":[{"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"payload","payload":"p"}]}]}`},
		{name: "location keeps its numbers", body: `{"to":"5511999999999","location":{"longitude":-180,"latitude":90.000000000000000001}}`,
			to: "5511999999999", kind: ToPhone, typ: "location", content: `{"latitude":90.000000000000000001,"longitude":-180}`},
		{name: "reaction", body: `{"to":"5511999999999","reaction":{"message_id":"wamid.X","emoji":"👍🏽"}}`,
			to: "5511999999999", kind: ToPhone, typ: "reaction", content: `{"message_id":"wamid.X","emoji":"👍🏽"}`},
		{name: "button header video", body: `{"to":"5511999999999","interactive":{"type":"button","header":{"type":"video","video":{"link":"https://x.example/v.mp4"}},"body":{"text":"b"},"action":{"buttons":[{"type":"reply","reply":{"id":"a","title":"A"}}]}}}`,
			to: "5511999999999", kind: ToPhone, typ: "interactive",
			content: `{"type":"button","header":{"type":"video","video":{"link":"https://x.example/v.mp4"}},"body":{"text":"b"},"action":{"buttons":[{"type":"reply","reply":{"id":"a","title":"A"}}]}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := mustParse(t, tc.body)
			assert.Equal(t, tc.to, r.To, "got %+v", r)
			assert.Equal(t, tc.kind, r.ToKind, "got %+v", r)
			assert.Equal(t, tc.typ, r.Type, "got %+v", r)
			assert.Equal(t, tc.context, r.ContextWAMID, "got %+v", r)
			assert.Equal(t, tc.opaque, r.BizOpaque, "got %+v", r)
			assert.Equal(t, tc.content, string(r.Content), "content\n got %s\nwant %s", r.Content, tc.content)
		})
	}
}

// TestParseUnreadable: bodies that are not one JSON object are 400s.
func TestParseUnreadable(t *testing.T) {
	cases := map[string]string{
		"empty":          ``,
		"blank":          " \n ",
		"not json":       `to=5511999999999&text=oi`,
		"truncated":      `{"to":"5511999999999","text":"oi"`,
		"array":          `[{"to":"5511999999999","text":"oi"}]`,
		"string":         `"oi"`,
		"null":           `null`,
		"number":         `42`,
		"two objects":    `{"to":"5511999999999","text":"a"}{"to":"5511999999999","text":"b"}`,
		"trailing junk":  `{"to":"5511999999999","text":"a"} x`,
		"trailing comma": `{"to":"5511999999999","text":"a",}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(body))
			require.True(t, apperr.Is(err, apperr.Invalid), "err = %v, want an apperr.Invalid", err)
			e, _ := apperr.As(err)
			require.NotEmpty(t, e.Message, "unclear error %+v", e)
			require.Equal(t, 400, e.Kind.Status(), "unclear error %+v", e)
		})
	}
}

// TestParseProblems: 422s name every problem's field.
func TestParseProblems(t *testing.T) {
	const to = `"to":"5511999999999",`
	cases := []struct {
		name   string
		body   string
		fields []string // all must be reported
		issue  string   // the first detail's issue contains this
	}{
		{"missing to", `{"text":"x"}`, []string{"to"}, "required"},
		{"to is a number", `{"to":5511999999999,"text":"x"}`, []string{"to"}, "must be a string"},
		{"to is garbage", `{"to":"call me","text":"x"}`, []string{"to"}, "phone number"},
		{"to and recipient", `{"to":"5511999999999","recipient":"US.13491208655302741918","text":"x"}`, []string{"recipient"}, "not both"},
		{"recipient is a phone", `{"recipient":"5511999999999","text":"x"}`, []string{"recipient"}, "user id"},
		{"unknown top-level field", `{` + to + `"text":"x","priority":"high"}`, []string{"priority"}, "not a known field"},
		{"messaging_product", `{` + to + `"messaging_product":"sms","text":"x"}`, []string{"messaging_product"}, "whatsapp"},
		{"recipient_type", `{` + to + `"recipient_type":"group","text":"x"}`, []string{"recipient_type"}, "individual"},
		{"no message", `{` + to + `"preview_url":true}`, []string{"type", "preview_url"}, "required"},
		{"unknown type", `{` + to + `"type":"contacts","contacts":[]}`, []string{"type", "contacts"}, "must be one of"},
		{"type without its object", `{` + to + `"type":"image"}`, []string{"image"}, "required"},
		{"type and another object", `{` + to + `"type":"image","image":{"id":"1"},"text":"x"}`, []string{"text"}, "not allowed"},
		{"two objects", `{` + to + `"image":{"id":"1"},"video":{"id":"2"}}`, []string{"video"}, "conflicts with image"},
		{"type is not a string", `{` + to + `"type":1,"text":"x"}`, []string{"type"}, "must be a string"},
		{"duplicate key", `{` + to + `"text":"x","text":"y"}`, []string{"text"}, "more than once"},
		{"duplicate nested key", `{` + to + `"image":{"id":"1","id":"2"}}`, []string{"image.id"}, "more than once"},
		{"unknown nested field", `{` + to + `"image":{"link":"https://x.example/a.png","captoin":"x"}}`, []string{"image.captoin"}, "not a known field"},
		{"text object without body", `{` + to + `"text":{}}`, []string{"text.body"}, "required"},
		{"blank body", `{` + to + `"text":{"body":"  "}}`, []string{"text.body"}, "empty"},
		{"body not a string", `{` + to + `"text":{"body":5}}`, []string{"text.body"}, "must be a string"},
		{"preview_url not bool", `{` + to + `"text":{"body":"x","preview_url":"yes"}}`, []string{"text.preview_url"}, "true or false"},
		{"text is a number", `{` + to + `"text":5}`, []string{"text"}, "must be an object"},
		{"context without id", `{` + to + `"text":"x","context":{}}`, []string{"context.message_id"}, "required"},
		{"context not a wamid", `{` + to + `"text":"x","context":{"message_id":"msg_1"}}`, []string{"context.message_id"}, "wamid"},
		{"context unknown field", `{` + to + `"text":"x","context":{"message_id":"wamid.A","from":"x"}}`, []string{"context.from"}, "not a known field"},
		{"opaque not a string", `{` + to + `"text":"x","biz_opaque_callback_data":{}}`, []string{"biz_opaque_callback_data"}, "must be a string"},

		{"media id and link", `{` + to + `"image":{"id":"1","link":"https://x.example/a.png"}}`, []string{"image.link"}, "not both"},
		{"media neither", `{` + to + `"image":{"caption":"x"}}`, []string{"image.id"}, "either"},
		{"media ftp link", `{` + to + `"image":{"link":"ftp://x.example/a.png"}}`, []string{"image.link"}, "https://"},
		{"media relative link", `{` + to + `"image":{"link":"/a.png"}}`, []string{"image.link"}, "absolute"},
		{"media javascript link", `{` + to + `"document":{"link":"javascript:alert(1)"}}`, []string{"document.link"}, "https://"},
		{"media link with spaces", `{` + to + `"image":{"link":"https://x.example/a b.png"}}`, []string{"image.link"}, "spaces"},
		{"audio caption", `{` + to + `"audio":{"id":"1","caption":"x"}}`, []string{"audio.caption"}, "not allowed on audio"},
		{"sticker caption", `{` + to + `"sticker":{"id":"1","caption":"x"}}`, []string{"sticker.caption"}, "not allowed on sticker"},
		{"image filename", `{` + to + `"image":{"id":"1","filename":"a.png"}}`, []string{"image.filename"}, "only allowed on documents"},

		{"interactive type unsupported", `{` + to + `"interactive":{"type":"product","body":{"text":"x"},"action":{}}}`, []string{"interactive.type"}, "button, list, cta_url"},
		{"interactive missing body and action", `{` + to + `"interactive":{"type":"button"}}`, []string{"interactive.body", "interactive.action"}, "required"},
		{"no buttons", `{` + to + `"interactive":{"type":"button","body":{"text":"x"},"action":{"buttons":[]}}}`, []string{"interactive.action.buttons"}, "at least 1"},
		{"button not reply", `{` + to + `"interactive":{"type":"button","body":{"text":"x"},"action":{"buttons":[{"type":"url","reply":{"id":"a","title":"A"}}]}}}`, []string{"interactive.action.buttons[0].type"}, "reply"},
		{"duplicate button ids", `{` + to + `"interactive":{"type":"button","body":{"text":"x"},"action":{"buttons":[{"type":"reply","reply":{"id":"a","title":"A"}},{"type":"reply","reply":{"id":"a","title":"B"}}]}}}`,
			[]string{"interactive.action.buttons[1].reply.id"}, "buttons[0]"},
		{"sections on a button message", `{` + to + `"interactive":{"type":"button","body":{"text":"x"},"action":{"buttons":[{"type":"reply","reply":{"id":"a","title":"A"}}],"sections":[]}}}`,
			[]string{"interactive.action.sections"}, "only allowed on list"},
		{"list header image", `{` + to + `"interactive":{"type":"list","header":{"type":"image","image":{"id":"1"}},"body":{"text":"x"},"action":{"button":"b","sections":[{"rows":[{"id":"1","title":"t"}]}]}}}`,
			[]string{"interactive.header.type"}, "text"},
		{"header text with an image member", `{` + to + `"interactive":{"type":"button","header":{"type":"text","text":"h","image":{"id":"1"}},"body":{"text":"x"},"action":{"buttons":[{"type":"reply","reply":{"id":"a","title":"A"}}]}}}`,
			[]string{"interactive.header.image"}, "not allowed"},
		{"header media caption", `{` + to + `"interactive":{"type":"button","header":{"type":"image","image":{"id":"1","caption":"c"}},"body":{"text":"x"},"action":{"buttons":[{"type":"reply","reply":{"id":"a","title":"A"}}]}}}`,
			[]string{"interactive.header.image.caption"}, "not allowed"},
		{"list without button", `{` + to + `"interactive":{"type":"list","body":{"text":"x"},"action":{"sections":[{"rows":[{"id":"1","title":"t"}]}]}}}`,
			[]string{"interactive.action.button"}, "required"},
		{"list section titles needed when several", `{` + to + `"interactive":{"type":"list","body":{"text":"x"},"action":{"button":"b","sections":[{"rows":[{"id":"1","title":"t"}]},{"title":"B","rows":[{"id":"2","title":"t"}]}]}}}`,
			[]string{"interactive.action.sections[0].title"}, "required"},
		{"list empty section", `{` + to + `"interactive":{"type":"list","body":{"text":"x"},"action":{"button":"b","sections":[{"rows":[]}]}}}`,
			[]string{"interactive.action.sections[0].rows"}, "at least 1 row"},
		{"list duplicate row ids across sections", `{` + to + `"interactive":{"type":"list","body":{"text":"x"},"action":{"button":"b","sections":[{"title":"A","rows":[{"id":"1","title":"t"}]},{"title":"B","rows":[{"id":"1","title":"u"}]}]}}}`,
			[]string{"interactive.action.sections[1].rows[0].id"}, "sections[0].rows[0]"},
		{"list row title missing", `{` + to + `"interactive":{"type":"list","body":{"text":"x"},"action":{"button":"b","sections":[{"rows":[{"id":"1","title":"t"},{"id":"2"}]}]}}}`,
			[]string{"interactive.action.sections[0].rows[1].title"}, "required"},
		{"cta http url", `{` + to + `"interactive":{"type":"cta_url","body":{"text":"x"},"action":{"name":"cta_url","parameters":{"display_text":"Go","url":"http://x.example"}}}}`,
			[]string{"interactive.action.parameters.url"}, "https://"},
		{"cta wrong name", `{` + to + `"interactive":{"type":"cta_url","body":{"text":"x"},"action":{"name":"url","parameters":{"display_text":"Go","url":"https://x.example"}}}}`,
			[]string{"interactive.action.name"}, "cta_url"},

		{"template without name and language", `{` + to + `"template":{}}`, []string{"template.name", "template.language"}, "required"},
		{"template name uppercase", `{` + to + `"template":{"name":"Welcome","language":{"code":"pt_BR"}}}`, []string{"template.name"}, "lowercase"},
		{"template language", `{` + to + `"template":{"name":"t","language":{"code":"pt-BR"}}}`, []string{"template.language.code"}, "pt_BR"},
		{"template language policy", `{` + to + `"template":{"name":"t","language":{"code":"pt_BR","policy":"fallback"}}}`, []string{"template.language.policy"}, "deterministic"},
		{"template language as a string", `{` + to + `"template":{"name":"t","language":"pt_BR"}}`, []string{"template.language"}, "must be an object"},
		{"component type", `{` + to + `"template":{"name":"t","language":{"code":"en"},"components":[{"type":"carousel","parameters":[]}]}}`, []string{"template.components[0].type"}, "header, body, footer, button"},
		{"component without parameters", `{` + to + `"template":{"name":"t","language":{"code":"en"},"components":[{"type":"body"}]}}`, []string{"template.components[0].parameters"}, "required"},
		{"component with no parameters", `{` + to + `"template":{"name":"t","language":{"code":"en"},"components":[{"type":"body","parameters":[]}]}}`, []string{"template.components[0].parameters"}, "at least 1"},
		{"two bodies", `{` + to + `"template":{"name":"t","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","text":"a"}]},{"type":"body","parameters":[{"type":"text","text":"b"}]}]}}`,
			[]string{"template.components[1].type"}, "components[0]"},
		{"button without sub_type and index", `{` + to + `"template":{"name":"t","language":{"code":"en"},"components":[{"type":"button","parameters":[{"type":"payload","payload":"p"}]}]}}`,
			[]string{"template.components[0].sub_type", "template.components[0].index"}, "required"},
		{"button index out of range", `{` + to + `"template":{"name":"t","language":{"code":"en"},"components":[{"type":"button","sub_type":"url","index":"10","parameters":[{"type":"text","text":"p"}]}]}}`,
			[]string{"template.components[0].index"}, "0 to 9"},
		{"button index repeated", `{` + to + `"template":{"name":"t","language":{"code":"en"},"components":[{"type":"button","sub_type":"quick_reply","index":0,"parameters":[{"type":"payload","payload":"p"}]},{"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"payload","payload":"q"}]}]}}`,
			[]string{"template.components[1].index"}, "components[0]"},
		{"index on a body", `{` + to + `"template":{"name":"t","language":{"code":"en"},"components":[{"type":"body","index":0,"parameters":[{"type":"text","text":"a"}]}]}}`,
			[]string{"template.components[0].index"}, "only allowed on button"},
		{"parameter type not for the component", `{` + to + `"template":{"name":"t","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"image","image":{"id":"1"}}]}]}}`,
			[]string{"template.components[0].parameters[0].type"}, "text, currency, date_time"},
		{"text parameter missing", `{` + to + `"template":{"name":"t","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","text":"a"},{"type":"text"}]}]}}`,
			[]string{"template.components[0].parameters[1].text"}, "required"},
		{"text parameter empty", `{` + to + `"template":{"name":"t","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","text":""}]}]}}`,
			[]string{"template.components[0].parameters[0].text"}, "empty"},
		{"text parameter null", `{` + to + `"template":{"name":"t","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","text":null}]}]}}`,
			[]string{"template.components[0].parameters[0].text"}, "required"},
		{"text parameter boolean", `{` + to + `"template":{"name":"t","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","text":true}]}]}}`,
			[]string{"template.components[0].parameters[0].text"}, "string or a number"},
		{"text parameter huge exponent", `{` + to + `"template":{"name":"t","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","text":1e999999}]}]}}`,
			[]string{"template.components[0].parameters[0].text"}, "as a string"},
		{"payload on a text parameter", `{` + to + `"template":{"name":"t","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","text":"a","payload":"p"}]}]}}`,
			[]string{"template.components[0].parameters[0].payload"}, "not allowed on a text parameter"},
		{"currency problems", `{` + to + `"template":{"name":"t","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"currency","currency":{"fallback_value":"","code":"real","amount_1000":10.5}}]}]}}`,
			[]string{"template.components[0].parameters[0].currency.fallback_value", "template.components[0].parameters[0].currency.code", "template.components[0].parameters[0].currency.amount_1000"}, "empty"},
		{"date_time without fallback", `{` + to + `"template":{"name":"t","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"date_time","date_time":{"day_of_month":3}}]}]}}`,
			[]string{"template.components[0].parameters[0].date_time.fallback_value", "template.components[0].parameters[0].date_time.day_of_month"}, "required"},
		{"header media parameter without source", `{` + to + `"template":{"name":"t","language":{"code":"en"},"components":[{"type":"header","parameters":[{"type":"image","image":{}}]}]}}`,
			[]string{"template.components[0].parameters[0].image.id"}, "either"},

		{"location missing", `{` + to + `"location":{}}`, []string{"location.latitude", "location.longitude"}, "required"},
		{"location out of range", `{` + to + `"location":{"latitude":90.0001,"longitude":-180.5}}`, []string{"location.latitude", "location.longitude"}, "-90 to 90"},
		{"location as strings", `{` + to + `"location":{"latitude":"-23.5","longitude":"-46.6"}}`, []string{"location.latitude", "location.longitude"}, "must be a number"},
		{"location overflow", `{` + to + `"location":{"latitude":1e400,"longitude":0}}`, []string{"location.latitude"}, "-90 to 90"},
		{"reaction without emoji", `{` + to + `"reaction":{"message_id":"wamid.X"}}`, []string{"reaction.emoji"}, "removes"},
		{"reaction without message", `{` + to + `"reaction":{"emoji":"👍"}}`, []string{"reaction.message_id"}, "required"},
		{"reaction to a bad id", `{` + to + `"reaction":{"message_id":"abc","emoji":"👍"}}`, []string{"reaction.message_id"}, "wamid"},

		{"everything at once", `{"to":"x","type":"text","text":{"body":""},"context":{"message_id":"m"},"extra":1}`,
			[]string{"to", "context.message_id", "text.body", "extra"}, "phone number"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse([]byte(tc.body))
			require.Error(t, err, "accepted: %+v", r)
			e, ok := apperr.As(err)
			require.True(t, ok, "err = %v, want a 422", err)
			require.Equal(t, apperr.Unprocessable, e.Kind, "err")
			require.Equal(t, 422, e.Kind.Status(), "err")
			for _, f := range tc.fields {
				assert.True(t, hasField(err, f), "no detail for %s; got %+v", f, e.Details)
			}
			assert.Contains(t, e.Details[0].Issue, tc.issue, "first issue %q does not mention %q (all: %+v)", e.Details[0].Issue, tc.issue, e.Details)
			assert.Contains(t, e.Message, e.Details[0].Field, "message %q does not name %s", e.Message, e.Details[0].Field)
		})
	}
}

func TestParseCapsDetails(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"to":"5511999999999","text":"x"`)
	for i := 0; i < jsoncheck.MaxDetails+7; i++ {
		b.WriteString(`,"x` + strings.Repeat("y", i) + `":1`)
	}
	b.WriteString(`}`)
	_, err := Parse([]byte(b.String()))
	e, ok := apperr.As(err)
	if !ok || len(e.Details) != jsoncheck.MaxDetails || e.Extra["details_omitted"] != 7 {
		t.Fatalf("got %d details, extra %v: %v", len(apperr.DetailsOf(err)), e.Extra, err)
	}
	assert.Contains(t, e.Message, "and 56 more problems", "message %q", e.Message)
}

// Text that is not UTF-8 (a lone surrogate escape, raw bytes) is refused
// naming its field, not swapped for U+FFFD and sent.
func TestParseRefusesInvalidUTF8(t *testing.T) {
	for _, body := range []string{`{"to":"5511999999999","text":"a\ud800b"}`, "{\"to\":\"5511999999999\",\"text\":\"a\xffb\"}"} {
		_, err := Parse([]byte(body))
		e, ok := apperr.As(err)
		if !ok || e.Kind != apperr.Invalid || e.Code != "invalid_utf8" || len(e.Details) != 1 || e.Details[0].Field != "text" {
			t.Errorf("Parse(%q) = %v", body, err)
		}
	}
}
