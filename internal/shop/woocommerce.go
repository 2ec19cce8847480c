package shop

import "strings"

// Phone sources in a WooCommerce order, in candidate order.
const (
	SourceWooBilling  = "billing.phone"
	SourceWooShipping = "shipping.phone"
)

type wooAddress struct {
	FirstName text `json:"first_name"`
	LastName  text `json:"last_name"`
	Email     text `json:"email"`
	Phone     text `json:"phone"`
	Country   text `json:"country"`
}

type wooOrder struct {
	ID             orderID             `json:"id"`
	Number         text                `json:"number"`
	Status         text                `json:"status"`
	Currency       text                `json:"currency"`
	Total          text                `json:"total"`
	DateCreated    text                `json:"date_created"`
	DateCreatedGMT text                `json:"date_created_gmt"`
	Billing        lenient[wooAddress] `json:"billing"`
	Shipping       lenient[wooAddress] `json:"shipping"`
}

// ParseWooCommerceOrder reads an order.* webhook body (the REST API v3 order
// resource, which is what WooCommerce webhooks deliver). Unknown fields are
// ignored; the error, which wraps ErrInvalidPayload, names the problem when
// the body is not a JSON object, a known field has the wrong type or the
// order has no id. The legacy-API payload ({"order": {...}}) is not read.
func ParseWooCommerceOrder(body []byte) (Order, error) {
	var p wooOrder
	if err := decodeObject(WooCommerce, body, &p); err != nil {
		return Order{}, err
	}
	if p.ID == "" {
		return Order{}, payloadErr(WooCommerce, "no order id")
	}
	bill, ship := p.Billing.V, p.Shipping.V

	o := Order{
		Platform:  WooCommerce,
		ID:        string(p.ID),
		Number:    firstNonEmpty(p.Number.trim(), string(p.ID)),
		Status:    strings.TrimPrefix(p.Status.trim(), "wc-"),
		Total:     p.Total.trim(),
		Currency:  p.Currency.trim(),
		Email:     firstNonEmpty(bill.Email.trim(), ship.Email.trim()),
		FirstName: firstNonEmpty(bill.FirstName.trim(), ship.FirstName.trim()),
		LastName:  firstNonEmpty(bill.LastName.trim(), ship.LastName.trim()),
		CreatedAt: firstNonEmpty(p.DateCreated.trim(), p.DateCreatedGMT.trim()),
	}
	o.Name = "#" + o.Number

	billCC, shipCC := alpha2(string(bill.Country)), alpha2(string(ship.Country))
	c := candidates{fallback: firstNonEmpty(billCC, shipCC)}
	c.add(SourceWooBilling, bill.Phone, billCC)
	c.add(SourceWooShipping, ship.Phone, shipCC)
	o.finish(c)
	return o, nil
}
