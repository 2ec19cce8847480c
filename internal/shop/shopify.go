package shop

import "strings"

// Phone sources in a Shopify order, in candidate order.
const (
	SourceShopifyCustomer       = "customer.phone"
	SourceShopifyBilling        = "billing_address.phone"
	SourceShopifyShipping       = "shipping_address.phone"
	SourceShopifyOrder          = "phone"
	SourceShopifyDefaultAddress = "customer.default_address.phone"
)

type shopifyAddress struct {
	FirstName   text `json:"first_name"`
	LastName    text `json:"last_name"`
	Phone       text `json:"phone"`
	CountryCode text `json:"country_code"`
}

type shopifyCustomer struct {
	FirstName      text                    `json:"first_name"`
	LastName       text                    `json:"last_name"`
	Email          text                    `json:"email"`
	Phone          text                    `json:"phone"`
	DefaultAddress lenient[shopifyAddress] `json:"default_address"`
}

type shopifyOrder struct {
	ID                orderID                  `json:"id"`
	OrderNumber       text                     `json:"order_number"`
	Name              text                     `json:"name"`
	TotalPrice        text                     `json:"total_price"`
	Currency          text                     `json:"currency"`
	Email             text                     `json:"email"`
	ContactEmail      text                     `json:"contact_email"`
	Phone             text                     `json:"phone"`
	CancelledAt       text                     `json:"cancelled_at"`
	FulfillmentStatus text                     `json:"fulfillment_status"`
	CreatedAt         text                     `json:"created_at"`
	UpdatedAt         text                     `json:"updated_at"`
	Customer          lenient[shopifyCustomer] `json:"customer"`
	BillingAddress    lenient[shopifyAddress]  `json:"billing_address"`
	ShippingAddress   lenient[shopifyAddress]  `json:"shipping_address"`
}

// ParseShopifyOrder reads an orders/* webhook body (the Admin REST order
// resource). Unknown fields are ignored; the error, which wraps
// ErrInvalidPayload, names the problem when the body is not a JSON object,
// a known field has the wrong type or the order has no id.
func ParseShopifyOrder(body []byte) (Order, error) {
	var p shopifyOrder
	if err := decodeObject(Shopify, body, &p); err != nil {
		return Order{}, err
	}
	if p.ID == "" {
		return Order{}, payloadErr(Shopify, "no order id")
	}
	cust := p.Customer.V
	bill, ship, def := p.BillingAddress.V, p.ShippingAddress.V, cust.DefaultAddress.V

	o := Order{
		Platform:  Shopify,
		ID:        string(p.ID),
		Number:    p.OrderNumber.trim(),
		Name:      p.Name.trim(),
		Total:     p.TotalPrice.trim(),
		Currency:  p.Currency.trim(),
		Email:     firstNonEmpty(p.Email.trim(), p.ContactEmail.trim(), cust.Email.trim()),
		FirstName: firstNonEmpty(cust.FirstName.trim(), bill.FirstName.trim(), ship.FirstName.trim()),
		LastName:  firstNonEmpty(cust.LastName.trim(), bill.LastName.trim(), ship.LastName.trim()),
		CreatedAt: p.CreatedAt.trim(),
		UpdatedAt: p.UpdatedAt.trim(),

		CancelledAt:       p.CancelledAt.trim(),
		FulfillmentStatus: p.FulfillmentStatus.trim(),
	}
	if o.Name == "" && o.Number != "" {
		o.Name = "#" + o.Number
	}
	switch {
	case p.CancelledAt.trim() != "":
		o.Status = "cancelled"
	case strings.EqualFold(p.FulfillmentStatus.trim(), "fulfilled"):
		o.Status = "fulfilled"
	}

	billCC, shipCC, defCC := alpha2(string(bill.CountryCode)), alpha2(string(ship.CountryCode)), alpha2(string(def.CountryCode))
	c := candidates{fallback: firstNonEmpty(billCC, shipCC, defCC)}
	c.add(SourceShopifyCustomer, cust.Phone, "")
	c.add(SourceShopifyBilling, bill.Phone, billCC)
	c.add(SourceShopifyShipping, ship.Phone, shipCC)
	c.add(SourceShopifyOrder, p.Phone, "")
	c.add(SourceShopifyDefaultAddress, def.Phone, defCC)
	o.finish(c)
	return o, nil
}

// Shopify order topics whose body must show what the topic says.
const (
	TopicShopifyCancelled = "orders/cancelled"
	TopicShopifyFulfilled = "orders/fulfilled"
)

// ShopifyTopicMismatch says why an order body cannot be a delivery of topic
// ("" when it agrees). X-Shopify-Topic is not covered by the signature, so
// a signed body captured from one topic could otherwise be replayed as
// another: an orders/cancelled body has cancelled_at set, an
// orders/fulfilled body has fulfillment_status "fulfilled".
func ShopifyTopicMismatch(topic string, o Order) string {
	switch topic {
	case TopicShopifyCancelled:
		if o.CancelledAt == "" {
			return "the topic is orders/cancelled but the order's cancelled_at is not set"
		}
	case TopicShopifyFulfilled:
		if !strings.EqualFold(o.FulfillmentStatus, "fulfilled") {
			return `the topic is orders/fulfilled but the order's fulfillment_status is not "fulfilled"`
		}
	}
	return ""
}
