package shophook

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/big"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/pytake/pytake/internal/accept"
	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/lazyre"
	"github.com/pytake/pytake/internal/outbound"
	"github.com/pytake/pytake/internal/shop"
	"github.com/pytake/pytake/internal/shopconfig"
	"github.com/pytake/pytake/internal/store"
)

// trigger is one thing an order webhook can cause once per order.
type trigger struct {
	key        string // the Shopify topic, or status:<s>
	setting    string // the topic or status whose settings apply
	event      string // order.created or order.updated
	topic      string // the webhook's topic
	prevStatus string
}

// Contact attribute names.
const (
	AttrLastPurchase       = "last_purchase"
	AttrTotalSpent         = "total_spent"
	AttrTotalSpentCurrency = "total_spent_currency"
	// AttrTotalSpentDecimal is total_spent as an exact decimal string
	// ("427.35", as many decimals as the shop's totals have). total_spent
	// stays a JSON number for the clients that read it so.
	AttrTotalSpentDecimal = "total_spent_decimal"
)

// Contact limits (as the API's).
const (
	maxContactTags = 50
	maxNameLen     = 256
)

func orderRecord(org string, o shop.Order, topic string) store.Order {
	rec := store.Order{OrgID: org, Platform: o.Platform, ID: o.ID, Number: o.Number, Name: o.Name, Status: o.Status,
		Total: o.Total, Currency: o.Currency, PlacedAt: o.CreatedAt, LastTopic: topic, PhoneSource: store.NoPhone}
	if phone, source, ok := o.Phone(); ok {
		rec.Phone, rec.PhoneSource = phone, source
	}
	return rec
}

// process runs one trigger of an order: claimed once, the order recorded,
// the contact updated, the message accepted and queued, the events
// published, the trigger done. It returns the trigger's result.
func (w *Webhook) process(ctx context.Context, log *slog.Logger, st shopconfig.Settings, o shop.Order, topic string, tr trigger) (string, error) {
	org, platform := st.OrgID, st.Platform
	log = log.With("platform", platform, "order_id", o.ID, "trigger", tr.key)
	n, claimed, err := w.Store.ClaimOrderNotification(ctx, org, platform, o.ID, tr.key, tr.event, Lease)
	if err != nil {
		return "", err
	}
	if !claimed {
		if n.State == store.TriggerDone {
			if _, err := w.Store.UpsertOrder(ctx, orderRecord(org, o, topic)); err != nil {
				return "", err
			}
			log.InfoContext(ctx, "trigger already done")
			return "seen", nil
		}
		if platform == shopconfig.Shopify {
			return "", apperr.New(apperr.Unavailable, "this order is being processed; retry later").WithCode("delivery_in_progress")
		}
		// WooCommerce does not retry: the holder finishes, or the next
		// delivery of this status resumes after its lease.
		log.InfoContext(ctx, "trigger held by a concurrent delivery")
		return "in_progress", nil
	}
	if n.Event != "" {
		tr.event = n.Event // a resumed trigger keeps the event it started with
	}
	res, err := w.run(ctx, log, st, o, topic, tr, n)
	if err != nil {
		if rerr := w.Store.ReleaseOrderNotification(ctx, org, platform, o.ID, tr.key); rerr != nil {
			log.WarnContext(ctx, "could not release the trigger; a retry waits for the lease", "error", rerr.Error())
		}
		return "", err
	}
	return res, nil
}

func (w *Webhook) run(ctx context.Context, log *slog.Logger, st shopconfig.Settings, o shop.Order, topic string, tr trigger, n store.OrderNotification) (string, error) {
	org, platform := st.OrgID, st.Platform
	ord, err := w.Store.UpsertOrder(ctx, orderRecord(org, o, topic))
	if err != nil {
		return "", err
	}
	var evs []event.Event
	data := event.OrderData{Platform: platform, Topic: topic, PhoneSource: ord.PhoneSource,
		Order: event.OrderView{ID: o.ID, Number: o.Number, Name: o.Name, Status: o.Status, PreviousStatus: tr.prevStatus,
			Total: o.Total, Currency: o.Currency, CreatedAt: o.CreatedAt}}
	if tr.event == event.OrderCreated {
		data.Order.PreviousStatus = ""
	}
	phone := ord.Phone
	trig, _ := st.Trigger(tr.setting)
	var contact store.Contact
	switch {
	case phone == "":
		n.Result = event.NotificationNoPhone
	default:
		var cevs []event.Event
		contact, cevs, err = w.contact(ctx, log, st, o, ord, phone)
		if err != nil {
			return "", err
		}
		evs = append(evs, cevs...)
		v := event.ViewContact(contact)
		data.Contact = &v
		if !trig.Sends() {
			n.Result = event.NotificationDisabled
			break
		}
		if err := w.notify(ctx, log, org, platform, st.Source, o, contact, trig, &n); err != nil {
			return "", err
		}
	}
	data.Notification = event.OrderNotification{Status: n.Result, Reason: n.Reason}
	if n.MessageID != "" {
		id := n.MessageID
		data.MessageID = &id
	}
	ev, err := event.New(event.StableID(org, tr.event, platform, o.ID, tr.key), tr.event, org, w.Now(), data)
	if err != nil {
		return "", err
	}
	evs = append(evs, ev)
	if w.Events != nil {
		if err := w.Events.Publish(ctx, evs...); err != nil {
			return "", err
		}
	}
	if err := w.Store.CompleteOrderNotification(ctx, org, platform, o.ID, n); err != nil {
		return "", err
	}
	log.InfoContext(ctx, "order trigger done", "result", n.Result, "reason", n.Reason, "message_id", n.MessageID, "phone_source", ord.PhoneSource)
	return n.Result, nil
}

// notify accepts and queues the trigger's message (once: a resumed trigger
// queues the message it accepted before). The message is recorded on the
// trigger as soon as it is accepted, so a retry after a queue failure
// queues that message rather than another.
func (w *Webhook) notify(ctx context.Context, log *slog.Logger, org, platform, source string, o shop.Order, c store.Contact, trig shopconfig.Trigger, n *store.OrderNotification) error {
	idem := "commerce:" + platform + ":" + o.ID + ":" + n.Key
	switch {
	case n.Enqueued:
	case n.MessageID != "":
		// Accepted with its job as an outbox item; one accepted before
		// outbox items existed is queued now, once.
		if err := w.accept.Requeue(ctx, org, store.Message{ID: n.MessageID, ContactID: c.ID}, idem); err != nil {
			return err
		}
	default:
		req, err := MessageRequest(trig.Message, c.ID, o, source)
		if err != nil {
			n.Result, n.Reason = event.NotificationRefused, "invalid_message: "+err.Error()
			log.WarnContext(ctx, "the configured message is not sendable for this order", "error", err.Error())
			return nil
		}
		// The key alone is the fingerprint: a retry replays the message
		// accepted first even if the settings changed meanwhile.
		res, err := w.accept.Accept(ctx, accept.Message{OrgID: org, Request: req, IdempotencyKey: idem, Fingerprint: []byte(idem)})
		if accept.Refused(err) {
			reason := err.Error()
			if e, ok := apperr.As(err); ok {
				reason = e.Code
			}
			n.Result, n.Reason = event.NotificationRefused, reason
			log.InfoContext(ctx, "message refused", "reason", reason)
			return nil
		}
		if res.Message.ID != "" {
			n.MessageID = res.Message.ID
			if rerr := w.Store.RecordOrderMessage(ctx, org, platform, o.ID, n.Key, n.MessageID); rerr != nil && err == nil {
				err = rerr
			}
		}
		if err != nil {
			return err
		}
	}
	n.Enqueued = true
	n.Result = event.NotificationQueued
	return nil
}

// MessageRequest renders a trigger's message for an order to `to` (the
// contact id) with outbound's constructors; {{shop}} is the shop domain or
// site URL. Template parameters that render empty are sent as "-" (Meta
// refuses empty parameters).
func MessageRequest(m *shopconfig.Message, to string, o shop.Order, source string) (outbound.Request, error) {
	vars := o.Vars()
	vars[shop.VarShop] = source
	switch m.Type {
	case "template":
		t := m.Template
		params := make([]string, 0, len(t.Parameters))
		for _, p := range t.Parameters {
			v, err := shop.Render(p, vars)
			if err != nil {
				return outbound.Request{}, err
			}
			if v = strings.TrimSpace(v); v == "" {
				v = "-"
			}
			params = append(params, v)
		}
		return outbound.BodyTemplate(to, t.Name, t.Language.Code, params)
	case "text":
		v, err := shop.Render(m.Text, vars)
		if err != nil {
			return outbound.Request{}, err
		}
		return outbound.Text(to, v)
	}
	return outbound.Request{}, errors.New("unknown message type " + m.Type)
}

// ---------------------------------------------------------------- contact

// countable says whether an order counts as a purchase (total_spent,
// last_purchase): Shopify orders not cancelled; WooCommerce orders paid or
// being paid (processing, on-hold, completed).
func countable(o shop.Order) bool {
	if o.Platform == shopconfig.Shopify {
		return o.Status != "cancelled"
	}
	switch o.Status {
	case "processing", "on-hold", "completed":
		return true
	}
	return false
}

// contact finds or creates the customer's contact (name and email filled
// when missing), merges the tags and, once per order, adds the order to
// the purchase attributes. It returns the contact.* events to publish.
func (w *Webhook) contact(ctx context.Context, log *slog.Logger, st shopconfig.Settings, o shop.Order, ord store.Order, phone string) (store.Contact, []event.Event, error) {
	org := st.OrgID
	opts := st.Contact
	counted := ord.Counted
	for attempt := 0; attempt < 6; attempt++ {
		page, err := w.Store.Contacts(ctx, org, "", phone, "", 1)
		if err != nil {
			return store.Contact{}, nil, err
		}
		create := len(page.Items) == 0
		var c store.Contact
		changed := false
		if create {
			c = store.Contact{OrgID: org, WhatsAppID: phone, Tags: []string{}, Attributes: map[string]any{}}
		} else {
			c = page.Items[0]
			c.OrgID = org
			c.Tags = append([]string(nil), c.Tags...)
			attrs := make(map[string]any, len(c.Attributes)+3)
			for k, v := range c.Attributes {
				attrs[k] = v
			}
			c.Attributes = attrs
		}
		if name := customerName(o); c.Name == "" && name != "" {
			c.Name, changed = name, true
		}
		if c.Email == "" {
			if e := email(o.Email); e != "" {
				c.Email, changed = e, true
			}
		}
		for _, t := range opts.Tags {
			if !contains(c.Tags, t) && len(c.Tags) < maxContactTags {
				c.Tags, changed = append(c.Tags, t), true
			}
		}
		count := !counted && countable(o) && (opts.Attributes.LastPurchase || opts.Attributes.TotalSpent)
		countedTotal := ""
		if count {
			countedTotal = addPurchase(&c, o, opts.Attributes, w.Now())
			changed = true
		}
		// This order created the contact before (its events were not
		// published then): contact.created again, by its id.
		var again []event.Event
		if !create && ord.CreatedContactID != "" && ord.CreatedContactID == c.ID {
			ev, err := event.New(event.StableID(org, event.ContactCreated, c.ID), event.ContactCreated, org, w.Now(),
				map[string]any{"contact": event.ViewContact(c)})
			if err != nil {
				return store.Contact{}, nil, err
			}
			again = append(again, ev)
		}
		if !create && !changed {
			if ord.ContactID != c.ID {
				if err := w.Store.SetOrderContact(ctx, org, o.Platform, o.ID, c.ID); err != nil {
					return store.Contact{}, nil, err
				}
			}
			return c, again, nil
		}
		saved, err := w.Store.SaveOrderContact(ctx, store.OrderContact{Contact: c, Create: create, Count: count,
			Platform: o.Platform, OrderID: o.ID, CountedTotal: countedTotal})
		switch {
		case errors.Is(err, store.ErrOrderCounted):
			counted = true
			continue
		case errors.Is(err, store.ErrContactChanged):
			continue
		case apperr.Is(err, apperr.Conflict): // the contact was created meanwhile
			continue
		case err != nil:
			return store.Contact{}, nil, err
		}
		if !count && ord.ContactID != saved.ID {
			if err := w.Store.SetOrderContact(ctx, org, o.Platform, o.ID, saved.ID); err != nil {
				return store.Contact{}, nil, err
			}
		}
		name := event.ContactUpdated
		subject := []string{org, name, saved.ID, saved.UpdatedAt.String()}
		if create {
			name = event.ContactCreated
			subject = []string{org, name, saved.ID}
		}
		ev, err := event.New(event.StableID(subject...), name, org, w.Now(), map[string]any{"contact": event.ViewContact(saved)})
		if err != nil {
			return store.Contact{}, nil, err
		}
		return saved, append(again, ev), nil
	}
	return store.Contact{}, nil, apperr.New(apperr.Unavailable, "the contact keeps changing; retry")
}

func customerName(o shop.Order) string {
	n := strings.TrimSpace(o.FirstName + " " + o.LastName)
	if r := []rune(n); len(r) > maxNameLen {
		n = string(r[:maxNameLen])
	}
	return n
}

func email(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 254 {
		return ""
	}
	if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
		return ""
	}
	return s
}

// addPurchase adds an order to the contact's purchase attributes and says
// what was added to total_spent ("" when the option is off; the reason when
// nothing could be: invalid_total, currency_mismatch). Amounts are added as
// exact decimals.
func addPurchase(c *store.Contact, o shop.Order, opts shopconfig.AttributeOptions, now time.Time) string {
	if opts.LastPurchase {
		day := purchaseDay(o.CreatedAt, now)
		if prev, _ := c.Attributes[AttrLastPurchase].(string); prev < day {
			c.Attributes[AttrLastPurchase] = day
		}
	}
	if !opts.TotalSpent {
		return ""
	}
	amount, ok := decimal(o.Total)
	if !ok || amount.Sign() < 0 {
		return "invalid_total"
	}
	cur := strings.ToUpper(strings.TrimSpace(o.Currency))
	if have, _ := c.Attributes[AttrTotalSpentCurrency].(string); have != "" && cur != "" && have != cur {
		return "currency_mismatch"
	}
	total, scale := previousTotal(c.Attributes)
	total.Add(total, amount)
	scale = max(scale, writtenScale(o.Total), exactScale(total))
	c.Attributes[AttrTotalSpent] = numberOf(total)
	c.Attributes[AttrTotalSpentDecimal] = total.FloatString(scale)
	if cur != "" {
		c.Attributes[AttrTotalSpentCurrency] = cur
	}
	return o.Total
}

// previousTotal is the contact's total so far and the decimals it is
// written with: total_spent_decimal when total_spent is still what it
// was written as (the same number, or its float64 rounding: totals with
// more digits than a float64 holds, or finer than numberOf's 6 decimals),
// else total_spent (set through the API, or by a version that kept no
// decimal string), else zero.
func previousTotal(attrs map[string]any) (*big.Rat, int) {
	num, numOK := ratOf(attrs[AttrTotalSpent])
	if s, ok := attrs[AttrTotalSpentDecimal].(string); ok {
		d, ok := decimal(s)
		matches := numOK && ok && (d.Cmp(num) == 0 || numberOf(d) == numberOf(num))
		alone := ok && attrs[AttrTotalSpent] == nil
		if matches || alone {
			return d, writtenScale(s)
		}
	}
	if numOK {
		return num, exactScale(num)
	}
	return new(big.Rat), 0
}

// writtenScale is the number of decimals s is written with ("150.00": 2;
// "1e2" or "7": 0).
func writtenScale(s string) int {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, "eE") {
		return 0
	}
	if _, frac, ok := strings.Cut(s, "."); ok {
		return min(len(frac), 40)
	}
	return 0
}

// exactScale is the fewest decimals that write r exactly (sums of
// decimals always terminate; 40 bounds the search).
func exactScale(r *big.Rat) int {
	x := new(big.Rat).Set(r)
	ten := big.NewRat(10, 1)
	for n := 0; n < 40; n++ {
		if x.IsInt() {
			return n
		}
		x.Mul(x, ten)
	}
	return 40
}

// purchaseDay is the order's date as written (the shop's local date),
// else today (UTC).
func purchaseDay(createdAt string, now time.Time) string {
	s := strings.TrimSpace(createdAt)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format("2006-01-02")
		}
	}
	return now.UTC().Format("2006-01-02")
}

// decimalSyntax is a plain decimal number, an exponent of at most two
// digits allowed: not big.Rat's other syntaxes (fractions, 0x/0b/0o
// prefixes, underscores), which are no shop's totals and could make the
// sum inexact ("1/3") or huge ("1e999999").
var decimalSyntax = lazyre.New(`^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,2})?$`)

// decimal reads an amount exactly ("398.00", "29.35", "1e2").
func decimal(s string) (*big.Rat, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 40 || !decimalSyntax().MatchString(s) {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || exactScale(r) >= 40 { // "1e-99": more decimals than a total is written with
		return nil, false
	}
	return r, true
}

// ratOf reads a stored number exactly. Stored numbers come back as
// float64; their shortest decimal form is the decimal that was written
// (up to 15 significant digits), so no float error enters the sum.
func ratOf(v any) (*big.Rat, bool) {
	switch n := v.(type) {
	case float64:
		return decimal(strconv.FormatFloat(n, 'f', -1, 64))
	case int64:
		return new(big.Rat).SetInt64(n), true
	case int:
		return new(big.Rat).SetInt64(int64(n)), true
	case json.Number:
		return decimal(n.String())
	case string:
		return decimal(n)
	}
	return nil, false
}

// numberOf turns an exact sum into the number stored: its float64, whose
// shortest form is the exact decimal (sums of cents stay far below 15
// significant digits), so DynamoDB stores and the API shows e.g. 427.35.
func numberOf(r *big.Rat) float64 {
	s := strings.TrimRight(strings.TrimRight(r.FloatString(6), "0"), ".")
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
