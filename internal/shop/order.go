package shop

import (
	"strings"

	"github.com/pytake/pytake/internal/phone"
)

// Order is the platform-neutral view of an order webhook.
type Order struct {
	Platform string // Shopify or WooCommerce
	// ID is the order id as a decimal string. Shopify ids exceed 2^53 and
	// are never read through a float.
	ID string
	// Number is Shopify's order_number or WooCommerce's number (the id when
	// WooCommerce sends none).
	Number string
	// Name is Shopify's name ("#1001"); for WooCommerce "#" + Number.
	Name string
	// Status is WooCommerce's status ("processing", "completed", ...). For
	// Shopify it is "cancelled" when cancelled_at is set, "fulfilled" when
	// fulfillment_status is "fulfilled", otherwise "".
	Status string
	// Total is the grand total exactly as sent ("199.90"); a JSON number is
	// kept as written.
	Total     string
	Currency  string
	Email     string
	FirstName string
	LastName  string
	// CountryCode is the ISO 3166-1 alpha-2 country of the candidate Phone
	// picks or, when none is usable, of the billing, shipping or default
	// address, in that order.
	CountryCode string
	// Phones lists every non-empty phone in the documented candidate order.
	Phones    []PhoneCandidate
	CreatedAt string // as sent, if any
	UpdatedAt string // Shopify's updated_at as sent, if any

	// Shopify's cancelled_at and fulfillment_status as sent ("" for null).
	CancelledAt       string
	FulfillmentStatus string
}

// PhoneCandidate is one phone found in an order.
type PhoneCandidate struct {
	Source  string // where it was found, e.g. "billing_address.phone"
	Raw     string // as sent, surrounding spaces trimmed
	Country string // ISO 3166-1 alpha-2 used to complete a local number; may be ""
}

// Phone picks the first candidate that normalises to a usable E.164 number
// (digits only, no '+', 8 to 15 digits, with country calling code), in the
// candidate order, and says which source it came from. ok is false when no
// candidate is usable.
func (o Order) Phone() (digits string, source string, ok bool) {
	_, digits, source, ok = o.pickPhone()
	return digits, source, ok
}

func (o Order) pickPhone() (i int, digits, source string, ok bool) {
	for i, c := range o.Phones {
		if d, err := phone.Parse(c.Raw, c.Country); err == nil {
			return i, d, c.Source, true
		}
	}
	return -1, "", "", false
}

// The template variables an Order offers.
const (
	VarOrderNumber  = "order_number"
	VarNumber       = "number" // alias of order_number (WooCommerce wording)
	VarOrderName    = "order_name"
	VarOrderID      = "order_id"
	VarTotalPrice   = "total_price"
	VarTotal        = "total" // alias of total_price
	VarCurrency     = "currency"
	VarFirstName    = "first_name"
	VarLastName     = "last_name"
	VarCustomerName = "customer_name"
	VarEmail        = "email"
	VarStatus       = "status"
	VarShop         = "shop" // always empty; the caller may fill it
)

// Vars are the template variables an order offers: order_number (alias
// number), order_name, order_id, total_price (alias total), currency,
// first_name, last_name, customer_name (first and last name), email, status
// and shop (empty; the caller may fill it). Every name is present even when
// its value is empty, so Order{}.Vars() lists the valid names.
func (o Order) Vars() map[string]string {
	return map[string]string{
		VarOrderNumber:  o.Number,
		VarNumber:       o.Number,
		VarOrderName:    o.Name,
		VarOrderID:      o.ID,
		VarTotalPrice:   o.Total,
		VarTotal:        o.Total,
		VarCurrency:     o.Currency,
		VarFirstName:    o.FirstName,
		VarLastName:     o.LastName,
		VarCustomerName: strings.TrimSpace(o.FirstName + " " + o.LastName),
		VarEmail:        o.Email,
		VarStatus:       o.Status,
		VarShop:         "",
	}
}

// candidates accumulates phone candidates, skipping empty phones and filling
// a missing country from the order's fallback chain.
type candidates struct {
	fallback string
	list     []PhoneCandidate
}

func (c *candidates) add(source string, raw text, country string) {
	r := raw.trim()
	if r == "" {
		return
	}
	c.list = append(c.list, PhoneCandidate{Source: source, Raw: r, Country: firstNonEmpty(country, c.fallback)})
}

// finish sets the phones and the country on o.
func (o *Order) finish(c candidates) {
	o.Phones = c.list
	if i, _, _, ok := o.pickPhone(); ok && o.Phones[i].Country != "" {
		o.CountryCode = o.Phones[i].Country
	} else {
		o.CountryCode = c.fallback
	}
}
