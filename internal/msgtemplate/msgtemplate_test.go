package msgtemplate

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/outbound"
)

const goodCreate = `{"name":"order_confirmation","language":"pt_BR","category":"utility",
 "components":[
  {"type":"HEADER","format":"TEXT","text":"Pedido {{1}}","example":{"header_text":["1001"]}},
  {"type":"BODY","text":"Olá! Seu pedido {{1}} de {{2}} foi confirmado.","example":{"body_text":[["1001","R$ 150,00"]]}},
  {"type":"FOOTER","text":"Loja Exemplo"},
  {"type":"BUTTONS","buttons":[{"type":"URL","text":"Acompanhar","url":"https://loja.example/p/{{1}}","example":["https://loja.example/p/1001"]},
    {"type":"QUICK_REPLY","text":"Falar com atendente"}]}]}`

func TestParseCreate(t *testing.T) {
	d, out, err := ParseCreate([]byte(goodCreate))
	if err != nil {
		t.Fatalf("good template refused: %v %v", err, apperr.DetailsOf(err))
	}
	if d.Category != "UTILITY" || len(d.Components) != 4 {
		t.Fatalf("definition: %+v", d)
	}
	if !strings.Contains(string(out), `"category":"UTILITY"`) || !strings.Contains(string(out), `"example":{"body_text"`) {
		t.Fatalf("body for Meta: %s", out)
	}
	edit := func(old, new string) string {
		if !strings.Contains(goodCreate, old) {
			t.Fatalf("test edit %q does not apply", old)
		}
		return strings.Replace(goodCreate, old, new, 1)
	}
	long := strings.Repeat("a", 1025)
	cases := []struct {
		name, body, field, issue string
	}{
		{"name pattern", edit(`"order_confirmation"`, `"Order-Confirmation"`), "name", "lowercase"},
		{"name length", edit(`"order_confirmation"`, `"`+strings.Repeat("a", 513)+`"`), "name", "512"},
		{"language", edit(`"pt_BR"`, `"portuguese"`), "language", "language code"},
		{"category", edit(`"utility"`, `"promo"`), "category", "AUTHENTICATION, MARKETING, UTILITY"},
		{"unknown member", edit(`"category"`, `"kind":1,"category"`), "kind", "not a member"},
		{"body length", edit(`Olá! Seu pedido {{1}} de {{2}} foi confirmado.`, long), "components[1].text", "at most 1024"},
		{"gap", edit(`de {{2}} foi`, `de {{3}} foi`), "components[1].text", "{{2}} is missing"},
		{"not a number", edit(`de {{2}} foi`, `de {{total}} foi`), "components[1].text", "must be a number"},
		{"example count", edit(`[["1001","R$ 150,00"]]`, `[["1001"]]`), "components[1].example.body_text", "must give 2 samples"},
		{"no example", edit(`,"example":{"body_text":[["1001","R$ 150,00"]]}`, ``), "components[1].example.body_text", "one sample per variable"},
		{"empty example", edit(`"R$ 150,00"]]`, `" "]]`), "components[1].example.body_text[0][1]", "empty"},
		{"starts with variable", edit(`Olá! Seu pedido {{1}} de`, `{{1}} de`), "components[1].text", "start with a variable"},
		{"ends with variable", edit(`{{2}} foi confirmado.`, `{{2}}`), "components[1].text", "end with a variable"},
		{"header length", edit(`"Pedido {{1}}"`, `"`+strings.Repeat("x", 61)+`"`), "components[0].text", "at most 60"},
		{"header two variables", edit(`"Pedido {{1}}"`, `"Pedido {{1}} {{2}}"`), "components[0].text", "at most 1 variable"},
		{"header example", edit(`"example":{"header_text":["1001"]}`, `"example":{}`), "components[0].example.header_text", "sample"},
		{"media header", edit(`"format":"TEXT","text":"Pedido {{1}}","example":{"header_text":["1001"]}`, `"format":"IMAGE"`), "components[0].example.header_handle", "required"},
		{"footer variable", edit(`"Loja Exemplo"`, `"Loja {{1}}"`), "components[2].text", "must not have variables"},
		{"two bodies", edit(`{"type":"FOOTER","text":"Loja Exemplo"}`, `{"type":"BODY","text":"x"}`), "components[2].type", "repeats components[1]"},
		{"unknown component", edit(`"FOOTER"`, `"SIDEBAR"`), "components[2].type", "must be one of"},
		{"label length", edit(`"Acompanhar"`, `"`+strings.Repeat("b", 26)+`"`), "components[3].buttons[0].text", "at most 25"},
		{"url variable not at end", edit(`p/{{1}}"`, `{{1}}/p"`), "components[3].buttons[0].url", "at its end"},
		{"url example", edit(`"example":["https://loja.example/p/1001"]`, `"example":[]`), "components[3].buttons[0].example", "full URL"},
		{"three url buttons", edit(`{"type":"QUICK_REPLY","text":"Falar com atendente"}`,
			`{"type":"URL","text":"a","url":"https://a.example"},{"type":"URL","text":"b","url":"https://b.example"}`), "components[3].buttons[2].type", "at most 2"},
		{"eleven buttons", edit(`{"type":"QUICK_REPLY","text":"Falar com atendente"}`,
			strings.TrimSuffix(strings.Repeat(`{"type":"QUICK_REPLY","text":"q"},`, 10), ",")), "components[3].buttons", "at most 10"},
		{"no body", `{"name":"a","language":"en","category":"UTILITY","components":[{"type":"FOOTER","text":"x"}]}`, "components", "BODY"},
		{"named variable without format", edit(`de {{2}} foi`, `de {{2}} e {{nome}} foi`), "components[1].text", "must be a number"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseCreate([]byte(tc.body))
			if !apperr.Is(err, apperr.Unprocessable) {
				t.Fatalf("want 422, got %v", err)
			}
			for _, d := range apperr.DetailsOf(err) {
				if d.Field == tc.field && strings.Contains(d.Issue, tc.issue) {
					return
				}
			}
			t.Fatalf("no detail %s ~ %q in %+v", tc.field, tc.issue, apperr.DetailsOf(err))
		})
	}
}

func TestParseCreateNamed(t *testing.T) {
	body := `{"name":"welcome","language":"en_US","category":"MARKETING","parameter_format":"NAMED","components":[
	 {"type":"BODY","text":"Hi {{first_name}}, your code is {{code}}.","example":{"body_text_named_params":[{"param_name":"first_name","example":"Ana"},{"param_name":"code","example":"X1"}]}}]}`
	d, _, err := ParseCreate([]byte(body))
	if err != nil || !d.Named() {
		t.Fatalf("named template: %v %+v", err, apperr.DetailsOf(err))
	}
	_, _, err = ParseCreate([]byte(strings.Replace(body, `{"param_name":"code","example":"X1"}`, `{"param_name":"other","example":"X1"}`, 1)))
	if fields := apperr.Fields(err); len(fields) != 2 || fields[0] != "components[0].example.body_text_named_params" {
		t.Fatalf("missing and extra named samples: %v %+v", err, apperr.DetailsOf(err))
	}
}

func TestParseCreateNotJSON(t *testing.T) {
	for _, b := range []string{``, `[]`, `"x"`, `null`, `{"name":`} {
		if _, _, err := ParseCreate([]byte(b)); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("%q: want 400, got %v", b, err)
		}
	}
	if _, _, err := ParseCreate([]byte(`{"name":"a","language":"en","category":"UTILITY","components":{"type":"BODY"}}`)); !apperr.Is(err, apperr.Unprocessable) {
		t.Errorf("components object: want 422, got %v", err)
	}
}

// definition is the template of goodCreate as Meta lists it, approved.
func definition(t *testing.T) Definition {
	t.Helper()
	d, _, err := ParseCreate([]byte(goodCreate))
	if err != nil {
		t.Fatal(err)
	}
	d.Status = StatusApproved
	return d
}

func sent(t *testing.T, body string) Sent {
	t.Helper()
	req, err := outbound.Parse([]byte(body))
	if err != nil {
		t.Fatalf("outbound refused the send: %v %+v", err, apperr.DetailsOf(err))
	}
	s, err := ParseSent(req.Content)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCheck(t *testing.T) {
	d := definition(t)
	header := `{"type":"header","parameters":[{"type":"text","text":"1001"}]}`
	body2 := `{"type":"body","parameters":[{"type":"text","text":"1001"},{"type":"text","text":"R$ 150,00"}]}`
	button := `{"type":"button","sub_type":"url","index":0,"parameters":[{"type":"text","text":"1001"}]}`
	msg := func(components ...string) string {
		return `{"to":"5511999999999","type":"template","template":{"name":"order_confirmation","language":{"code":"pt_BR"},"components":[` +
			strings.Join(components, ",") + `]}}`
	}
	cases := []struct {
		name       string
		body       string
		field      string
		issue      string
		noProblems bool
	}{
		{"right", msg(header, body2, button), "", "", true},
		{"with a quick reply payload", msg(header, body2, button, `{"type":"button","sub_type":"quick_reply","index":1,"parameters":[{"type":"payload","payload":"agent"}]}`), "", "", true},
		{"one body parameter", msg(header, `{"type":"body","parameters":[{"type":"text","text":"1001"}]}`, button),
			"template.components[1].parameters", "the body expects 2 parameters, not 1", false},
		{"three body parameters", msg(header, `{"type":"body","parameters":[{"type":"text","text":"1"},{"type":"text","text":"2"},{"type":"text","text":"3"}]}`, button),
			"template.components[1].parameters", "expects 2 parameters, not 3", false},
		{"no body", msg(header, button), "template.components", "the body of \"order_confirmation\" expects 2 parameters", false},
		{"image for a text header", msg(`{"type":"header","parameters":[{"type":"image","image":{"id":"1"}}]}`, body2, button),
			"template.components[0].parameters[0].type", "expects a text parameter, not image", false},
		{"no url suffix", msg(header, body2), "template.components", "button 0 (url)", false},
		{"a footer parameter", msg(header, body2, button, `{"type":"footer","parameters":[{"type":"text","text":"x"}]}`),
			"template.components[3].parameters", "expected 0 parameters, not 1", false},
		{"a button the template lacks", msg(header, body2, button, `{"type":"button","sub_type":"url","index":5,"parameters":[{"type":"text","text":"x"}]}`),
			"template.components[3].parameters", "button 5", false},
		{"wrong sub_type", msg(header, body2, `{"type":"button","sub_type":"quick_reply","index":0,"parameters":[{"type":"payload","payload":"x"}]}`),
			"template.components[2].sub_type", "is a url button", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(d, sent(t, tc.body))
			if tc.noProblems {
				if err != nil {
					t.Fatalf("refused: %v %+v", err, apperr.DetailsOf(err))
				}
				return
			}
			e, ok := apperr.As(err)
			if !ok || e.Kind != apperr.Unprocessable || e.Code != CodeMismatch {
				t.Fatalf("want 422 %s, got %v", CodeMismatch, err)
			}
			for _, dt := range e.Details {
				if dt.Field == tc.field && strings.Contains(dt.Issue, tc.issue) {
					return
				}
			}
			t.Fatalf("no detail %s ~ %q in %+v", tc.field, tc.issue, e.Details)
		})
	}
}

func TestCheckStatus(t *testing.T) {
	d := definition(t)
	d.Status = "PAUSED"
	err := Check(d, Sent{Name: d.Name})
	e, ok := apperr.As(err)
	if !ok || e.Code != CodeNotApproved || !strings.Contains(e.Message, "PAUSED") {
		t.Fatalf("paused template: %v", err)
	}
}

func TestCheckNamed(t *testing.T) {
	d := Definition{Name: "welcome", Language: "en_US", Status: StatusApproved, ParameterFormat: "named",
		Components: []Component{{Type: "BODY", Text: "Hi {{first_name}}, code {{code}}."}}}
	ok := `{"to":"5511999999999","type":"template","template":{"name":"welcome","language":{"code":"en_US"},"components":[{"type":"body","parameters":[
	  {"type":"text","parameter_name":"first_name","text":"Ana"},{"type":"text","parameter_name":"code","text":"X1"}]}]}}`
	if err := Check(d, sent(t, ok)); err != nil {
		t.Fatalf("named send refused: %v %+v", err, apperr.DetailsOf(err))
	}
	bad := strings.Replace(ok, `"parameter_name":"code"`, `"parameter_name":"coupon"`, 1)
	if fields := apperr.Fields(Check(d, sent(t, bad))); len(fields) != 1 || fields[0] != "template.components[0].parameters[1].parameter_name" {
		t.Fatalf("wrong name: %v", fields)
	}
}

func TestVariables(t *testing.T) {
	got := Variables("a {{1}} b {{ 2 }} {{1}} {{name}}")
	if strings.Join(got, ",") != "1,2,name" {
		t.Fatalf("variables: %v", got)
	}
}

func FuzzParseCreate(f *testing.F) {
	f.Add([]byte(goodCreate))
	f.Add([]byte(`{"name":"a","language":"en","category":"UTILITY","components":[{"type":"BODY","text":"x {{1}} y","example":{"body_text":[["v"]]}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		d, out, err := ParseCreate(body)
		if err != nil {
			if _, ok := apperr.As(err); !ok {
				t.Fatalf("not an apperr: %v", err)
			}
			return
		}
		if !outbound.ValidTemplateName(d.Name) || !json.Valid(out) {
			t.Fatalf("accepted %q: %+v", body, d)
		}
		if _, ok := d.component("BODY"); !ok {
			t.Fatalf("accepted without a body: %q", body)
		}
	})
}

// TestCheckOtherButtons: an authentication template's OTP copy-code
// button takes the code as a url button's text parameter (Meta's send
// form); the check does not refuse it as a button the template lacks.
func TestCheckOtherButtons(t *testing.T) {
	cases := []struct {
		name   string
		button string // the template's button, as Meta lists it
		sent   string // the send's button component
	}{
		{"otp copy code", `{"type":"OTP","otp_type":"COPY_CODE","text":"Copy code"}`,
			`{"type":"button","sub_type":"url","index":0,"parameters":[{"type":"text","text":"123456"}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var d Definition
			def := `{"name":"code","language":"en_US","category":"AUTHENTICATION","status":"APPROVED","components":[` +
				`{"type":"BODY","text":"*{{1}}* is your code."},{"type":"BUTTONS","buttons":[` + tc.button + `]}]}`
			if err := json.Unmarshal([]byte(def), &d); err != nil {
				t.Fatal(err)
			}
			s := sent(t, `{"to":"5511999999999","type":"template","template":{"name":"code","language":{"code":"en_US"},"components":[`+
				`{"type":"body","parameters":[{"type":"text","text":"123456"}]},`+tc.sent+`]}}`)
			if err := Check(d, s); err != nil {
				t.Fatalf("refused: %v %+v", err, apperr.DetailsOf(err))
			}
		})
	}
}

// TestCheckSendableStatuses: a status webhook's REINSTATED (a paused
// template sendable again) and FLAGGED (low quality, still sendable until
// Meta pauses or disables it) are not refused as unapproved; the statuses
// that stop sends are.
func TestCheckSendableStatuses(t *testing.T) {
	body2 := `{"type":"body","parameters":[{"type":"text","text":"1001"},{"type":"text","text":"R$ 150,00"}]}`
	s := sent(t, `{"to":"5511999999999","type":"template","template":{"name":"order_confirmation","language":{"code":"pt_BR"},"components":[`+
		`{"type":"header","parameters":[{"type":"text","text":"1001"}]},`+body2+
		`,{"type":"button","sub_type":"url","index":0,"parameters":[{"type":"text","text":"1001"}]}]}}`)
	cases := []struct {
		status   string
		sendable bool
	}{
		{"APPROVED", true}, {"REINSTATED", true}, {"FLAGGED", true},
		{"PAUSED", false}, {"DISABLED", false}, {"PENDING", false}, {"REJECTED", false}, {"DELETED", false}, {"PENDING_DELETION", false},
	}
	for _, tc := range cases {
		t.Run(tc.status, func(t *testing.T) {
			d := definition(t)
			d.Status = tc.status
			err := Check(d, s)
			if tc.sendable && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if e, ok := apperr.As(err); !tc.sendable && (!ok || e.Code != CodeNotApproved) {
				t.Fatalf("want %s, got %v", CodeNotApproved, err)
			}
		})
	}
}

// TestCheckNamedRepeated: a named template's send that gives one variable
// twice and another not at all is refused (the count alone matches).
func TestCheckNamedRepeated(t *testing.T) {
	d := Definition{Name: "welcome", Language: "en_US", Status: StatusApproved, ParameterFormat: "named",
		Components: []Component{{Type: "BODY", Text: "Hi {{first_name}}, your code is {{code}}."}}}
	send := func(params string) Sent {
		return sent(t, `{"to":"5511999999999","type":"template","template":{"name":"welcome","language":{"code":"en_US"},"components":[{"type":"body","parameters":[`+params+`]}]}}`)
	}
	if err := Check(d, send(`{"type":"text","parameter_name":"first_name","text":"Ana"},{"type":"text","parameter_name":"code","text":"X1"}`)); err != nil {
		t.Fatalf("named send refused: %v %+v", err, apperr.DetailsOf(err))
	}
	cases := map[string]string{
		"repeated": `{"type":"text","parameter_name":"first_name","text":"Ana"},{"type":"text","parameter_name":"first_name","text":"Bia"}`,
	}
	for name, params := range cases {
		t.Run(name, func(t *testing.T) {
			if fields := apperr.Fields(Check(d, send(params))); len(fields) != 1 || fields[0] != "template.components[0].parameters[1].parameter_name" {
				t.Fatalf("want parameters[1].parameter_name named, got %v", fields)
			}
		})
	}
}
