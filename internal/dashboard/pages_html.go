package dashboard

import (
	"slices"
	"sort"
	"strconv"
)

// The pages' contents (render.go says how values are escaped). Markup is
// written as it reads in the page, values between.

func loginContent(w *html, v view, _ any) error {
	w.raw("\n<p>")
	w.t(v, "login.intro")
	w.raw(`</p>
<form method="post" action="/dashboard/login" class="card" novalidate>
  `)
	csrfInput(w, v)
	w.raw(`
  <div class="field">
    <label for="key">`)
	w.t(v, "login.key")
	w.raw(` <span class="req">(`)
	w.t(v, "required")
	w.raw(`)</span></label>
    <input id="key" name="key" type="password" autocomplete="off" required spellcheck="false"
      `)
	invalid(w, v, "key")
	w.raw(">\n    ")
	fieldError(w, v, "key")
	w.raw(`
  </div>
  <button type="submit">`)
	w.t(v, "login.submit")
	w.raw("</button>\n</form>\n")
	return nil
}

// messageContent is a page of one message: data's Body (a message key)
// and RequestID, either absent.
func messageContent(w *html, v view, data any) error {
	d, err := dataAs[map[string]string]("message", data)
	if err != nil && data != nil {
		return err
	}
	if len(d) > 0 {
		if b := d["Body"]; b != "" {
			w.raw("<p>")
			w.t(v, b)
			w.raw("</p>")
		}
		if id := d["RequestID"]; id != "" {
			w.raw("<p>")
			w.t(v, "error.request")
			w.raw(": <code>")
			w.esc(id)
			w.raw("</code></p>")
		}
	}
	w.raw("\n<p><a href=\"/dashboard\">")
	w.t(v, "app")
	w.raw("</a></p>")
	return nil
}

// ------------------------------------------------------------ WhatsApp

// formField is one input of the WhatsApp settings form.
type formField struct {
	Name, Label, Type, Value string
	Required                 bool
	Req, Hint, Error         string
}

func (f formField) write(w *html) {
	w.raw("\n  <div class=\"field\">\n    <label for=\"")
	w.esc(f.Name)
	w.raw("\">")
	w.esc(f.Label)
	if f.Required {
		w.raw(" <span class=\"req\">(")
		w.esc(f.Req)
		w.raw(")</span>")
	}
	w.raw("</label>\n    <input id=\"")
	w.esc(f.Name)
	w.raw("\" name=\"")
	w.esc(f.Name)
	w.raw("\" type=\"")
	w.esc(f.Type)
	w.raw("\" value=\"")
	w.esc(f.Value)
	w.raw("\" autocomplete=\"off\" spellcheck=\"false\"\n      ")
	switch {
	case f.Error != "":
		w.raw("aria-invalid=\"true\" aria-describedby=\"")
		w.esc(f.Name)
		w.raw("-error")
		if f.Hint != "" {
			w.raw(" ")
			w.esc(f.Name)
			w.raw("-hint")
		}
		w.raw("\"")
	case f.Hint != "":
		w.raw("aria-describedby=\"")
		w.esc(f.Name)
		w.raw("-hint\"")
	}
	w.raw(">\n    ")
	if f.Hint != "" {
		w.raw("<p class=\"hint\" id=\"")
		w.esc(f.Name)
		w.raw("-hint\">")
		w.esc(f.Hint)
		w.raw("</p>")
	}
	w.raw("\n    ")
	errorParagraph(w, f.Name, f.Error)
	w.raw("\n  </div>\n")
}

func whatsappContent(w *html, v view, data any) error {
	d, err := dataAs[whatsappData]("whatsapp", data)
	if err != nil {
		return err
	}
	w.raw("\n<p>")
	w.t(v, "wa.intro")
	w.raw("</p>\n")
	if d.Saved {
		w.raw("\n<p class=\"state\">")
		w.t(v, "wa.status")
		w.raw(":\n  ")
		if d.Settings.Healthy {
			w.raw(`<span class="ok"><span aria-hidden="true">●</span> `)
			w.t(v, "wa.healthy")
			w.raw("</span>\n  ")
		} else {
			w.raw(`<span class="bad"><span aria-hidden="true">▲</span> `)
			w.t(v, "wa.unhealthy")
			if r := d.Settings.UnhealthyReason; r != "" {
				w.raw(": ")
				w.esc(r)
			}
			w.raw("</span>")
		}
		w.raw("\n</p>\n")
	}
	w.raw("\n")
	cardForm(w, v, "/dashboard/settings/whatsapp", "card", "wa-form", v.T("nav.whatsapp"), true)
	w.raw("\n  ")
	secret := func(name, label string, masked string) formField {
		return formField{Name: name, Label: v.T(label), Type: "password", Required: !d.Saved, Req: v.T("required"),
			Hint: savedHint(d.Saved, masked, v.T("wa.saved.as"), v.T("wa.keep")), Error: v.FieldError(name)}
	}
	for i, f := range []formField{
		{Name: "phone_number_id", Label: v.T("wa.phone"), Type: "text", Value: d.Form["phone_number_id"], Required: true, Req: v.T("required"), Error: v.FieldError("phone_number_id")},
		{Name: "waba_id", Label: v.T("wa.waba"), Type: "text", Value: d.Form["waba_id"], Error: v.FieldError("waba_id")},
		secret("access_token", "wa.token", d.Settings.AccessToken),
		secret("app_secret", "wa.appsecret", d.Settings.AppSecret),
		secret("verify_token", "wa.verify", d.Settings.VerifyToken),
		{Name: "graph_api_version", Label: v.T("wa.version"), Type: "text", Value: d.Form["graph_api_version"], Error: v.FieldError("graph_api_version")},
	} {
		if i > 0 {
			w.raw("\n  ")
		}
		f.write(w)
	}
	formEnd(w, "", v.T("save"))
	w.raw("\n")
	cardForm(w, v, "/dashboard/settings/whatsapp/test", "card", "wa-test", v.T("wa.test"), false)
	w.raw("\n  <button type=\"submit\" id=\"test-connection\">")
	w.t(v, "wa.test")
	w.raw("</button>\n  ")
	if t := d.Test; t != nil {
		w.raw("\n  <div class=\"result\" role=\"status\" id=\"test-result\">\n    ")
		if t.OK {
			w.raw("\n    <p class=\"ok\"><strong><span aria-hidden=\"true\">✔ </span>")
			w.t(v, "wa.test.ok")
			w.raw("</strong></p>\n    <dl>")
			for _, row := range [...]struct{ label, value string }{
				{"wa.test.name", t.VerifiedName}, {"wa.test.number", t.DisplayPhoneNumber},
				{"wa.test.quality", t.QualityRating}, {"wa.phone", t.PhoneNumberID},
			} {
				w.raw("\n      <dt>")
				w.t(v, row.label)
				w.raw("</dt><dd>")
				w.esc(row.value)
				w.raw("</dd>")
			}
			w.raw("\n    </dl>\n    ")
		} else {
			w.raw("\n    <p class=\"bad\"><strong><span aria-hidden=\"true\">✖ </span>")
			w.t(v, "wa.test.fail")
			w.raw("</strong></p>\n    ")
			if e := t.Error; e != nil {
				w.raw("<dl>\n      <dt>")
				w.t(v, "wa.test.meta")
				w.raw("</dt><dd>")
				w.esc(e.Message)
				if e.Details != "" {
					w.raw(" — ")
					w.esc(e.Details)
				}
				w.raw(" (code ")
				w.int(int64(e.Code))
				if e.Subcode != 0 {
					w.raw(", subcode ")
					w.int(int64(e.Subcode))
				}
				if e.Type != "" {
					w.raw(", ")
					w.esc(e.Type)
				}
				w.raw(")</dd>\n    </dl>")
			}
			w.raw("\n    ")
		}
		w.raw("\n  </div>\n  ")
	}
	w.raw("\n</form>\n\n")
	cardSection(w, "wa-meta", "  ", v.T("wa.meta"))
	w.raw("  <p>")
	w.t(v, "wa.callback")
	w.raw(": <code id=\"callback-url\">")
	w.esc(d.CallbackURL)
	w.raw("</code>\n    ")
	copyButton(w, v, "callback-url")
	w.raw("</p>\n  <p>")
	w.t(v, "wa.verifyhint")
	w.raw("</p>\n  ")
	if d.Saved {
		w.raw("\n  <p id=\"verification\">")
		w.t(v, "wa.verification")
		w.raw(":\n    ")
		if d.VerifiedAt != nil {
			w.raw("<span class=\"ok\"><span aria-hidden=\"true\">✔</span> ")
			w.t(v, "wa.verified")
			w.raw(" ")
			w.esc(whenPtr(d.VerifiedAt))
			w.raw("</span>\n    ")
		} else {
			w.raw("<span class=\"bad\"><span aria-hidden=\"true\">○</span> ")
			w.t(v, "wa.notverified")
			w.raw("</span>")
		}
		w.raw("</p>\n  ")
	}
	w.raw("\n</section>\n")
	return nil
}

// ------------------------------------------------------------ Webhooks

// activeState is a webhook's "active" cell: yes, or no with why.
func activeState(w *html, v view, active bool, reason string) {
	if active {
		w.raw(`<span class="ok"><span aria-hidden="true">●</span> `)
		w.t(v, "yes")
		w.raw("</span>")
		return
	}
	w.raw(`<span class="bad"><span aria-hidden="true">○</span> `)
	w.t(v, "no")
	if reason != "" {
		w.raw(" (")
		w.esc(reason)
		w.raw(")")
	}
	w.raw("</span>")
}

func webhooksContent(w *html, v view, data any) error {
	d, err := dataAs[webhooksData]("webhooks", data)
	if err != nil {
		return err
	}
	w.raw("\n")
	cardSection(w, "wh-list", "", v.T("wh.list"))
	if len(d.Hooks) > 0 {
		w.raw("\n")
		tableHead(w, "", v.T("wh.open"), func() { headCells(w, v, "wh.name", "wh.url", "wh.events", "wh.active") })
		for _, h := range d.Hooks {
			w.raw("\n  <tr>\n    <td>")
			w.esc(h.Name)
			w.raw("</td><td><code>")
			w.esc(h.URL)
			w.raw("</code></td><td>")
			codeList(w, h.Events)
			w.raw("</td>\n    <td>")
			activeState(w, v, h.Active, h.DisabledReason)
			w.raw("</td>\n    <td><a href=\"")
			w.url("/dashboard/webhooks/" + h.ID)
			w.raw("\">")
			w.t(v, "wh.open")
			w.raw("<span class=\"sr\"> ")
			w.esc(h.Name)
			w.raw(" ")
			w.esc(h.URL)
			w.raw("</span></a></td>\n  </tr>\n  ")
		}
		tableEnd(w)
	} else {
		none(w, v)
	}
	w.raw("\n</section>\n\n")
	cardForm(w, v, "/dashboard/webhooks", "card", "wh-create", v.T("wh.create"), true)
	w.raw("\n  <div class=\"field\">\n    <label for=\"name\">")
	w.t(v, "wh.name")
	w.raw(" <span class=\"opt\">(")
	w.t(v, "optional")
	w.raw(")</span></label>\n    <input id=\"name\" name=\"name\" type=\"text\" value=\"")
	w.esc(d.Form["name"])
	w.raw("\" ")
	invalid(w, v, "name")
	w.raw(">\n    ")
	fieldError(w, v, "name")
	w.raw("\n  </div>\n  <div class=\"field\">\n    <label for=\"url\">")
	w.t(v, "wh.url")
	w.raw(" <span class=\"req\">(")
	w.t(v, "required")
	w.raw(")</span></label>\n    <input id=\"url\" name=\"url\" type=\"url\" value=\"")
	w.esc(d.Form["url"])
	w.raw("\" required ")
	invalid(w, v, "url")
	w.raw(">\n    ")
	fieldError(w, v, "url")
	w.raw("\n  </div>\n  <fieldset class=\"field\" ")
	if v.FieldError("events") != "" {
		w.raw("aria-describedby=\"events-error\"")
	}
	w.raw(">\n    <legend>")
	w.t(v, "wh.events")
	w.raw(" <span class=\"req\">(")
	w.t(v, "required")
	w.raw(")</span></legend>\n    <div class=\"checks\">\n    <label><input type=\"checkbox\" name=\"events\" value=\"*\" ")
	checkedIf(w, slices.Contains(d.Checked, "*"))
	w.raw("> ")
	w.t(v, "wh.all")
	w.raw("</label>\n    ")
	for _, k := range d.Events {
		w.raw("\n    <label title=\"")
		w.esc(k.Description)
		w.raw("\"><input type=\"checkbox\" name=\"events\" value=\"")
		w.esc(k.Name)
		w.raw("\" ")
		checkedIf(w, slices.Contains(d.Checked, k.Name))
		w.raw("> <code>")
		w.esc(k.Name)
		w.raw("</code></label>\n    ")
	}
	w.raw("\n    </div>\n    ")
	fieldError(w, v, "events")
	w.raw("\n  </fieldset>\n  <div class=\"field\">\n    <label for=\"secret\">")
	w.t(v, "wh.secret")
	w.raw(" <span class=\"opt\">(")
	w.t(v, "optional")
	w.raw(")</span></label>\n    <input id=\"secret\" name=\"secret\" type=\"text\" autocomplete=\"off\" spellcheck=\"false\"\n      ")
	if v.FieldError("secret") != "" {
		w.raw("aria-invalid=\"true\" aria-describedby=\"secret-error secret-hint\"")
	} else {
		w.raw("aria-describedby=\"secret-hint\"")
	}
	w.raw(">\n    <p class=\"hint\" id=\"secret-hint\">")
	w.t(v, "wh.secret.hint")
	w.raw("</p>\n    ")
	fieldError(w, v, "secret")
	w.raw("\n  </div>")
	formEnd(w, "", v.T("wh.create"))
	return nil
}

// headCells writes a table's column headers, a line break for "".
func headCells(w *html, v view, keys ...string) {
	for _, k := range keys {
		if k == "" {
			w.raw("\n  ")
			continue
		}
		w.raw("<th scope=\"col\">")
		w.t(v, k)
		w.raw("</th>")
	}
}

// tableHead opens a table (id, or none for "") and writes its head row: the
// cells that cells writes (headCells), then, when last is not "", a column
// named only for screen readers (each row's action). The body is left open
// for the rows; tableEnd closes it.
func tableHead(w *html, id, last string, cells func()) {
	w.raw("<table")
	if id != "" {
		w.raw(" id=\"" + id + "\"")
	}
	w.raw(">\n  <thead><tr>")
	cells()
	if last != "" {
		w.raw("<th scope=\"col\"><span class=\"sr\">")
		w.esc(last)
		w.raw("</span></th>")
	}
	w.raw("</tr></thead>\n  <tbody>\n  ")
}

// tableEnd closes what tableHead opened.
func tableEnd(w *html) { w.raw("\n  </tbody>\n</table>\n") }

// cardSection opens a card: a section labelled by its heading (id, and the
// heading's text), the heading indented by indent.
func cardSection(w *html, id, indent, heading string) {
	w.raw("<section class=\"card\" aria-labelledby=\"" + id + "\">\n" + indent + "<h2 id=\"" + id + "\">")
	w.esc(heading)
	w.raw("</h2>\n")
}

// cardForm opens a card that is a form posting to action: labelled by its
// heading (id, and the heading's text), then the CSRF field. class is
// "card" or "card danger"; a form with fields is novalidate (the server
// says what is wrong, in the page's language).
func cardForm(w *html, v view, action, class, id, heading string, fields bool) {
	w.raw("<form method=\"post\" action=\"")
	w.url(action)
	w.raw("\" class=\"" + class + "\"")
	if fields {
		w.raw(" novalidate")
	}
	w.raw(" aria-labelledby=\"" + id + "\">\n  <h2 id=\"" + id + "\">")
	w.esc(heading)
	w.raw("</h2>\n  ")
	csrfInput(w, v)
}

// formEnd closes a card form with its submit button (id, or none for "").
func formEnd(w *html, id, label string) {
	w.raw("\n  <button type=\"submit\"")
	if id != "" {
		w.raw(" id=\"" + id + "\"")
	}
	w.raw(">")
	w.esc(label)
	w.raw("</button>\n</form>\n")
}

// confirmForm is a card form (a dangerous action's) of one button, which
// says what the heading says.
func confirmForm(w *html, v view, action, id, label string) {
	cardForm(w, v, action, "card danger", id, label, false)
	formEnd(w, "", label)
}

// postForm is a form of one button posting to action.
func postForm(w *html, v view, action, class, indent string, button func()) {
	w.raw("<form method=\"post\" action=\"")
	w.url(action)
	w.raw("\" class=\"" + class + "\">\n" + indent + "  ")
	csrfInput(w, v)
	w.raw("\n" + indent + "  ")
	button()
	w.raw("\n" + indent + "</form>")
}

func webhookContent(w *html, v view, data any) error {
	d, err := dataAs[webhookData]("webhook", data)
	if err != nil {
		return err
	}
	h := d.Hook
	heading := h.Name
	if heading == "" {
		heading = h.ID
	}
	w.raw("\n")
	cardSection(w, "wh-one", "  ", heading)
	w.raw("  <dl>\n    <dt>")
	w.t(v, "wh.url")
	w.raw("</dt><dd><code>")
	w.esc(h.URL)
	w.raw("</code></dd>\n    <dt>")
	w.t(v, "wh.events")
	w.raw("</dt><dd>")
	codeList(w, h.Events)
	w.raw("</dd>\n    <dt>")
	w.t(v, "wh.active")
	w.raw("</dt><dd>")
	activeState(w, v, h.Active, h.DisabledReason)
	w.raw("</dd>\n  </dl>\n  <div class=\"actions\">\n    ")
	postForm(w, v, "/dashboard/webhooks/"+h.ID+"/test", "inline", "    ", func() {
		w.raw("<button type=\"submit\" id=\"send-test\">")
		w.t(v, "wh.test")
		w.raw("</button>")
	})
	w.raw("\n    <a href=\"")
	w.url("/dashboard/webhooks/" + h.ID)
	w.raw("\">")
	w.t(v, "wh.refresh")
	w.raw("</a>\n  </div>\n</section>\n\n")
	cardSection(w, "wh-deliveries", "", v.T("wh.deliveries"))
	if len(d.Deliveries) > 0 {
		w.raw("\n")
		tableHead(w, "deliveries", v.T("wh.resend"), func() {
			headCells(w, v, "wh.delivery.at", "wh.delivery.event", "wh.delivery.status", "", "wh.delivery.http", "wh.delivery.latency", "wh.delivery.attempt", "", "wh.delivery.resp", "wh.delivery.next")
		})
		for _, dl := range d.Deliveries {
			last := lastAttempt(dl.Attempts)
			w.raw("\n  <tr>\n    <td>")
			w.esc(when(dl.CreatedAt))
			w.raw("</td>\n    <td><code>")
			w.esc(dl.Event)
			w.raw("</code></td>\n    <td class=\"status-")
			w.esc(dl.Status)
			w.raw("\">")
			w.esc(dl.Status)
			w.raw("</td>\n    <td>")
			switch {
			case last == nil:
				w.raw("—")
			case last.StatusCode != 0:
				w.int(int64(last.StatusCode))
			default:
				w.esc(last.Error)
			}
			w.raw("</td>\n    <td>")
			if last != nil {
				w.int(last.LatencyMS)
				w.raw(" ms")
			} else {
				w.raw("—")
			}
			w.raw("</td>\n    <td>")
			w.int(int64(len(dl.Attempts)))
			w.raw("</td>\n    <td>")
			if last != nil {
				w.raw("<code class=\"excerpt\">")
				w.esc(excerpt(last.Response, 200))
				w.raw("</code>")
			}
			w.raw("</td>\n    <td>")
			w.esc(whenPtr(dl.NextAt))
			w.raw("</td>\n    <td>")
			postForm(w, v, "/dashboard/webhooks/"+h.ID+"/deliveries/"+dl.ID+"/retry", "inline", "    ", func() {
				w.raw("<button type=\"submit\">")
				w.t(v, "wh.resend")
				w.raw("<span class=\"sr\"> ")
				w.esc(dl.Event)
				w.raw(" ")
				w.esc(when(dl.CreatedAt))
				w.raw("</span></button>")
			})
			w.raw("</td>\n  </tr>\n  ")
		}
		tableEnd(w)
		next(w, v, "/dashboard/webhooks/"+h.ID+"?", d.Next)
		w.raw("\n")
	} else {
		none(w, v)
	}
	w.raw("\n</section>\n\n")
	cardForm(w, v, "/dashboard/webhooks/"+h.ID+"/rotate", "card", "wh-rotate", v.T("wh.rotate"), true)
	w.raw("\n  <p>")
	w.t(v, "wh.rotate.hint")
	w.raw("</p>\n  <div class=\"field\">\n    <label for=\"secret\">")
	w.t(v, "wh.secret")
	w.raw(" <span class=\"opt\">(")
	w.t(v, "optional")
	w.raw(")</span></label>\n    <input id=\"secret\" name=\"secret\" type=\"text\" autocomplete=\"off\" spellcheck=\"false\"\n      ")
	invalid(w, v, "secret")
	w.raw(">\n    ")
	fieldError(w, v, "secret")
	w.raw("\n  </div>")
	formEnd(w, "", v.T("wh.rotate"))
	w.raw("\n")
	confirmForm(w, v, "/dashboard/webhooks/"+h.ID+"/delete", "wh-delete", v.T("wh.delete"))
	return nil
}

// ------------------------------------------------------------ API keys

func keysContent(w *html, v view, data any) error {
	d, err := dataAs[keysData]("keys", data)
	if err != nil {
		return err
	}
	w.raw("\n")
	cardSection(w, "keys-list", "", v.T("keys.title"))
	tableHead(w, "keys", v.T("keys.revoke"), func() {
		headCells(w, v, "keys.name", "keys.prefix", "keys.mode", "keys.scopes", "", "keys.createdat", "keys.lastused", "keys.state")
	})
	for _, k := range d.Keys {
		w.raw("\n  <tr data-key-id=\"")
		w.esc(k.ID)
		w.raw("\">\n    <td>")
		w.esc(k.Name)
		if k.ID == d.Self {
			w.raw(" <em>(")
			w.t(v, "keys.self")
			w.raw(")</em>")
		}
		w.raw("</td>\n    <td><code>")
		w.esc(k.Prefix)
		w.raw("…")
		w.esc(k.Last4)
		w.raw("</code></td>\n    <td>")
		w.esc(k.Mode)
		w.raw("</td>\n    <td>")
		codeList(w, k.Scopes)
		w.raw("</td>\n    <td>")
		w.esc(when(k.CreatedAt))
		w.raw("</td>\n    <td>")
		w.esc(whenPtr(k.LastUsedAt))
		w.raw("</td>\n    <td>")
		if k.RevokedAt != nil {
			w.raw("<span class=\"bad\"><span aria-hidden=\"true\">○</span> ")
			w.t(v, "keys.revoked")
			w.raw(" ")
			w.esc(whenPtr(k.RevokedAt))
			w.raw("</span>")
		} else {
			w.raw("<span class=\"ok\"><span aria-hidden=\"true\">●</span> ")
			w.t(v, "keys.active")
			w.raw("</span>")
		}
		w.raw("</td>\n    <td>")
		if k.RevokedAt == nil {
			postForm(w, v, "/dashboard/keys/"+k.ID+"/revoke", "inline", "    ", func() {
				w.raw("<button type=\"submit\">")
				w.t(v, "keys.revoke")
				w.raw("<span class=\"sr\"> ")
				w.esc(k.Name)
				w.raw("</span></button>")
			})
		}
		w.raw("</td>\n  </tr>\n  ")
	}
	tableEnd(w)
	w.raw("</section>\n\n")
	cardForm(w, v, "/dashboard/keys", "card", "keys-create", v.T("keys.create"), true)
	w.raw("\n  <div class=\"field\">\n    <label for=\"name\">")
	w.t(v, "keys.name")
	w.raw(" <span class=\"req\">(")
	w.t(v, "required")
	w.raw(")</span></label>\n    <input id=\"name\" name=\"name\" type=\"text\" value=\"")
	w.esc(d.Form["name"])
	w.raw("\" required ")
	invalid(w, v, "name")
	w.raw(">\n    ")
	fieldError(w, v, "name")
	w.raw("\n  </div>\n  <div class=\"field\">\n    <label for=\"mode\">")
	w.t(v, "keys.mode")
	w.raw("</label>\n    <select id=\"mode\" name=\"mode\" ")
	invalid(w, v, "mode")
	w.raw(">")
	for _, m := range [...]string{"live", "test"} {
		w.raw("\n      <option value=\"" + m + "\" ")
		selectedIf(w, d.Form["mode"] == m)
		w.raw(">" + m + "</option>")
	}
	w.raw("\n    </select>\n    ")
	fieldError(w, v, "mode")
	w.raw("\n  </div>\n  <fieldset class=\"field\" aria-describedby=\"scopes-hint")
	if v.FieldError("scopes") != "" {
		w.raw(" scopes-error")
	}
	w.raw("\">\n    <legend>")
	w.t(v, "keys.scopes")
	w.raw(" <span class=\"opt\">(")
	w.t(v, "optional")
	w.raw(")</span></legend>\n    <p class=\"hint\" id=\"scopes-hint\">")
	w.t(v, "keys.scopes.hint")
	w.raw("</p>\n    <div class=\"checks\">\n    ")
	for _, sc := range d.Scopes {
		w.raw("<label><input type=\"checkbox\" name=\"scopes\" value=\"")
		w.esc(sc)
		w.raw("\" ")
		checkedIf(w, slices.Contains(d.Checked, sc))
		w.raw("> <code>")
		w.esc(sc)
		w.raw("</code></label>")
	}
	w.raw("\n    </div>\n    ")
	fieldError(w, v, "scopes")
	w.raw("\n  </fieldset>")
	formEnd(w, "", v.T("keys.create"))
	return nil
}

// ------------------------------------------------------------ Conversations

func conversationsContent(w *html, v view, data any) error {
	d, err := dataAs[conversationsData]("conversations", data)
	if err != nil {
		return err
	}
	w.raw("\n<nav aria-label=\"")
	w.t(v, "conv.status")
	w.raw("\" class=\"tabs\">")
	for _, st := range [...]string{"open", "resolved"} {
		w.raw("\n  <a href=\"/dashboard/conversations?status=" + st + "\"")
		if d.Status == st {
			w.raw(" aria-current=\"page\"")
		}
		w.raw(">")
		w.t(v, "conv."+st)
		w.raw("</a>")
	}
	w.raw("\n</nav>\n<section class=\"card\">\n")
	if len(d.Items) > 0 {
		w.raw("\n")
		tableHead(w, "conversations", "", func() {
			w.raw("<th scope=\"col\">ID</th>")
			headCells(w, v, "conv.contact", "conv.status", "conv.messages", "conv.last")
		})
		for _, c := range d.Items {
			w.raw("\n  <tr><td><a href=\"")
			w.url("/dashboard/conversations/" + c.ID)
			w.raw("\">")
			w.esc(c.ID)
			w.raw("</a></td><td><code>")
			w.esc(c.ContactID)
			w.raw("</code></td><td>")
			w.esc(c.Status)
			w.raw("</td><td>")
			w.int(int64(c.MessageCount))
			w.raw("</td><td>")
			w.esc(whenPtr(c.LastMessageAt))
			w.raw("</td></tr>\n  ")
		}
		tableEnd(w)
		next(w, v, "/dashboard/conversations?status="+queryEscape(d.Status)+"&", d.Next)
		w.raw("\n")
	} else {
		none(w, v)
	}
	w.raw("\n</section>\n")
	return nil
}

func conversationContent(w *html, v view, data any) error {
	d, err := dataAs[conversationData]("conversation", data)
	if err != nil {
		return err
	}
	c := d.Conv
	w.raw("\n")
	cardSection(w, "conv-one", "  ", c.ID)
	w.raw("  <dl>\n    <dt>")
	w.t(v, "conv.contact")
	w.raw("</dt><dd>")
	if n := d.Contact.DisplayName(); n != "" {
		w.esc(n)
		w.raw(" · ")
	}
	w.esc(d.Contact.WhatsAppID)
	w.raw(" <code>")
	w.esc(c.ContactID)
	w.raw("</code></dd>\n    <dt>")
	w.t(v, "conv.status")
	w.raw("</dt><dd id=\"conv-status\">")
	w.esc(c.Status)
	if c.Satisfaction != nil {
		w.raw(" · ")
		w.t(v, "conv.satisfaction")
		w.raw(": ")
		w.int(int64(*c.Satisfaction))
	}
	w.raw("</dd>\n    <dt>")
	w.t(v, "conv.messages")
	w.raw("</dt><dd>")
	w.int(int64(c.MessageCount))
	w.raw("</dd>\n  </dl>\n</section>\n")
	if c.Status == "open" {
		w.raw("\n")
		cardForm(w, v, "/dashboard/conversations/"+c.ID+"/resolve", "card", "conv-resolve", v.T("conv.resolve"), true)
		w.raw("\n  <div class=\"field\">\n    <label for=\"satisfaction\">")
		w.t(v, "conv.satisfaction")
		w.raw(" <span class=\"opt\">(")
		w.t(v, "optional")
		w.raw(")</span></label>\n    <select id=\"satisfaction\" name=\"satisfaction\" ")
		invalid(w, v, "satisfaction")
		w.raw(">\n      <option value=\"\">—</option>\n      ")
		for n := 1; n <= 5; n++ {
			s := strconv.Itoa(n)
			w.raw("<option value=\"" + s + "\" ")
			selectedIf(w, d.Form["satisfaction"] == s)
			w.raw(">" + s + "</option>")
		}
		w.raw("\n    </select>\n    ")
		fieldError(w, v, "satisfaction")
		w.raw("\n  </div>")
		formEnd(w, "resolve", v.T("conv.resolve"))
	}
	w.raw("\n")
	cardSection(w, "conv-msgs", "", v.T("conv.messages"))
	if len(d.Messages) > 0 {
		w.raw("\n")
		tableHead(w, "messages", "", func() { headCells(w, v, "conv.msg.at", "conv.msg.dir", "conv.msg.content", "conv.msg.status") })
		for _, m := range d.Messages {
			w.raw("\n  <tr><td>")
			w.esc(when(m.Timestamp))
			w.raw("</td><td>")
			if m.Direction == "inbound" {
				w.raw("<span aria-hidden=\"true\">← </span>")
				w.t(v, "conv.dir.in")
			} else {
				w.raw("<span aria-hidden=\"true\">→ </span>")
				w.t(v, "conv.dir.out")
			}
			w.raw("</td>\n  <td>")
			w.esc(m.Text)
			w.raw("</td><td>")
			w.esc(m.Status)
			w.raw("</td></tr>\n  ")
		}
		tableEnd(w)
		next(w, v, "/dashboard/conversations/"+c.ID+"?", d.Next)
		w.raw("\n")
	} else {
		none(w, v)
	}
	w.raw("\n</section>\n")
	return nil
}

// ------------------------------------------------------------ Contacts

func contactsContent(w *html, v view, data any) error {
	d, err := dataAs[contactsData]("contacts", data)
	if err != nil {
		return err
	}
	w.raw("\n<form method=\"get\" action=\"/dashboard/contacts\" class=\"card filter\" role=\"search\">\n  <div class=\"field\">\n    <label for=\"tag\">")
	w.t(v, "contacts.tag")
	w.raw("</label>\n    <input id=\"tag\" name=\"tag\" type=\"text\" value=\"")
	w.esc(d.Tag)
	w.raw("\" ")
	invalid(w, v, "tag")
	w.raw(">\n    ")
	fieldError(w, v, "tag")
	w.raw("\n  </div>\n  <button type=\"submit\">")
	w.t(v, "contacts.filter")
	w.raw("</button>\n</form>\n<section class=\"card\">\n")
	if len(d.Items) > 0 {
		w.raw("\n")
		tableHead(w, "contacts", "", func() {
			headCells(w, v, "contacts.name", "contacts.number", "contacts.tags", "contacts.attributes")
		})
		for _, c := range d.Items {
			w.raw("\n  <tr><td>")
			w.esc(c.DisplayName())
			w.raw("</td><td>")
			w.esc(c.WhatsAppID)
			w.raw("</td><td>")
			codeList(w, c.Tags)
			w.raw("</td>\n  <td>")
			names := make([]string, 0, len(c.Attributes))
			for k := range c.Attributes {
				names = append(names, k)
			}
			sort.Strings(names)
			for _, k := range names {
				w.raw("<code>")
				w.esc(k)
				w.raw("</code>: ")
				w.esc(formatAny(c.Attributes[k]))
				w.raw("<br>")
			}
			w.raw("</td></tr>\n  ")
		}
		tableEnd(w)
		next(w, v, "/dashboard/contacts?tag="+queryEscape(d.Tag)+"&", d.Next)
		w.raw("\n")
	} else {
		none(w, v)
	}
	w.raw("\n</section>\n")
	return nil
}
