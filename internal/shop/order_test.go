package shop

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseShopifySample(t *testing.T) {
	o, err := ParseShopifyOrder(readTestdata(t, "shopify_orders_create.json"))
	require.NoError(t, err)
	want := Order{
		Platform:    Shopify,
		ID:          "820982911946154508",
		Number:      "1234",
		Name:        "#9999",
		Status:      "cancelled",
		Total:       "388.00",
		Currency:    "USD",
		Email:       "jon@example.com",
		FirstName:   "John",
		LastName:    "Smith",
		CountryCode: "US",
		Phones: []PhoneCandidate{
			{SourceShopifyBilling, "555-555-SHIP", "US"},
			{SourceShopifyShipping, "555-555-SHIP", "US"},
			{SourceShopifyDefaultAddress, "123-123-1234", "CA"},
		},
		CreatedAt:   "2021-12-31T19:00:00-05:00",
		UpdatedAt:   "2021-12-31T19:00:00-05:00",
		CancelledAt: "2021-12-31T19:00:00-05:00",
	}
	assert.Equal(t, want, o, "got  %+v\nwant %+v", o, want)
	// Shopify's sample phones are placeholders: letters, and an area code
	// starting with 1.
	d, src, ok := o.Phone()
	assert.False(t, ok, "Phone() = %q from %s; want none", d, src)
}

func TestParseWooCommerceSample(t *testing.T) {
	o, err := ParseWooCommerceOrder(readTestdata(t, "woocommerce_order.json"))
	require.NoError(t, err)
	want := Order{
		Platform:    WooCommerce,
		ID:          "727",
		Number:      "727",
		Name:        "#727",
		Status:      "processing",
		Total:       "29.35",
		Currency:    "USD",
		Email:       "john.doe@example.com",
		FirstName:   "John",
		LastName:    "Doe",
		CountryCode: "US",
		Phones:      []PhoneCandidate{{SourceWooBilling, "(555) 555-5555", "US"}},
		CreatedAt:   "2017-03-22T16:28:02",
	}
	assert.Equal(t, want, o, "got  %+v\nwant %+v", o, want)
	d, src, ok := o.Phone()
	assert.Equal(t, "15555555555", d, "Phone() = %q, %q, %v", d, src, ok)
	assert.Equal(t, SourceWooBilling, src, "Phone()")
	assert.True(t, ok, "Phone()")
}

func TestLargeIDsStayExact(t *testing.T) {
	ids := []string{"820982911946154508", "5990021234567890123", "9007199254740993", "18446744073709551615"}
	// The test means something only if a float64 would corrupt these ids.
	for _, id := range ids[1:] {
		f, _ := strconv.ParseFloat(id, 64)
		require.NotEqual(t, id, strconv.FormatFloat(f, 'f', 0, 64), "%s survives float64; pick a harder id", id)
	}
	for _, id := range ids {
		for _, body := range []string{
			`{"id":` + id + `,"total_price":"1.00"}`,
			`{"id":"` + id + `","total_price":"1.00"}`,
		} {
			o, err := ParseShopifyOrder([]byte(body))
			assert.NoError(t, err, "Shopify %s: ID = %q, %v; want %s", body, o.ID, err, id)
			assert.Equal(t, id, o.ID, "Shopify %s: ID = %q, %v; want %s", body, o.ID, err, id)
			o, err = ParseWooCommerceOrder([]byte(body))
			assert.NoError(t, err, "WooCommerce %s: ID = %q, %v; want %s", body, o.ID, err, id)
			assert.Equal(t, id, o.ID, "WooCommerce %s: ID = %q, %v; want %s", body, o.ID, err, id)
		}
	}
	// Customer and address ids above 2^53 are ignored, not rounded into errors.
	_, err := ParseShopifyOrder([]byte(`{"id":1,"customer":{"id":115310627314723954,"default_address":{"id":715243470612851245}}}`))
	assert.NoError(t, err)
}

func TestShopifyFields(t *testing.T) {
	tests := []struct {
		name string
		body string
		want func(o *Order) // adjusts the base expectation
	}{
		{"minimal", `{"id":5990021234567890123}`, func(o *Order) {}},
		{"number total kept exact", `{"id":5990021234567890123,"total_price":199.90,"order_number":1001}`, func(o *Order) {
			o.Total, o.Number, o.Name = "199.90", "1001", "#1001"
		}},
		{"string total", `{"id":5990021234567890123,"total_price":"199.90","currency":"BRL","name":"#1001","order_number":1001}`, func(o *Order) {
			o.Total, o.Currency, o.Number, o.Name = "199.90", "BRL", "1001", "#1001"
		}},
		{"fulfilled", `{"id":5990021234567890123,"fulfillment_status":"fulfilled"}`, func(o *Order) { o.Status, o.FulfillmentStatus = "fulfilled", "fulfilled" }},
		{"partial is not fulfilled", `{"id":5990021234567890123,"fulfillment_status":"partial"}`, func(o *Order) { o.FulfillmentStatus = "partial" }},
		{"cancelled wins", `{"id":5990021234567890123,"fulfillment_status":"fulfilled","cancelled_at":"2024-01-01T00:00:00Z"}`, func(o *Order) {
			o.Status, o.FulfillmentStatus, o.CancelledAt = "cancelled", "fulfilled", "2024-01-01T00:00:00Z"
		}},
		{"names from billing", `{"id":5990021234567890123,"customer":null,"billing_address":{"first_name":"Ana","last_name":"Silva"}}`, func(o *Order) {
			o.FirstName, o.LastName = "Ana", "Silva"
		}},
		{"email fallbacks", `{"id":5990021234567890123,"email":"","contact_email":null,"customer":{"email":"c@example.com"}}`, func(o *Order) { o.Email = "c@example.com" }},
		{"country from address name ignored", `{"id":5990021234567890123,"billing_address":{"country":"Brazil"}}`, func(o *Order) {}},
		{"lower-case country code", `{"id":5990021234567890123,"shipping_address":{"country_code":"br"}}`, func(o *Order) { o.CountryCode = "BR" }},
		{"unknown fields and odd values tolerated", `{"id":5990021234567890123,"future":{"x":[1,2]},"phone":false,"customer":[],"billing_address":[]}`, func(o *Order) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseShopifyOrder([]byte(tt.body))
			require.NoError(t, err)
			want := Order{Platform: Shopify, ID: "5990021234567890123"}
			tt.want(&want)
			assert.Equal(t, want, got, "got  %+v\nwant %+v", got, want)
		})
	}
}

func TestShopifyPhoneCandidates(t *testing.T) {
	all := `{"id":1,
		"phone":"+44 7911 123456",
		"customer":{"phone":"(11) 98765-4321","default_address":{"phone":"0151 12345678","country_code":"DE"}},
		"billing_address":{"phone":"912 345 678","country_code":"PT"},
		"shipping_address":{"phone":"(415) 555-2671","country_code":"US"}}`
	o, err := ParseShopifyOrder([]byte(all))
	require.NoError(t, err)
	want := []PhoneCandidate{
		{SourceShopifyCustomer, "(11) 98765-4321", "PT"}, // no address: billing's country
		{SourceShopifyBilling, "912 345 678", "PT"},
		{SourceShopifyShipping, "(415) 555-2671", "US"},
		{SourceShopifyOrder, "+44 7911 123456", "PT"},
		{SourceShopifyDefaultAddress, "0151 12345678", "DE"},
	}
	require.Equal(t, want, o.Phones, "Phones = %+v\nwant %+v", o.Phones, want)
	// customer.phone is first but, read as Portuguese, has the wrong length;
	// billing's is next.
	if d, src, ok := o.Phone(); d != "351912345678" || src != SourceShopifyBilling || !ok {
		t.Errorf("Phone() = %q, %q, %v", d, src, ok)
	}
	assert.Equal(t, "PT", o.CountryCode, "CountryCode = %q", o.CountryCode)

	tests := []struct {
		name        string
		body        string
		digits, src string
		country     string
	}{
		{"customer phone with billing country", `{"id":1,"customer":{"phone":"(11) 98765-4321"},"billing_address":{"country_code":"BR","phone":"+1 415 555 2671"}}`,
			"5511987654321", SourceShopifyCustomer, "BR"},
		{"shipping country when billing has none", `{"id":1,"customer":{"phone":"07911 123456"},"billing_address":{"phone":null},"shipping_address":{"country_code":"GB"}}`,
			"447911123456", SourceShopifyCustomer, "GB"},
		{"default address country last", `{"id":1,"phone":"98765 43210","customer":{"default_address":{"country_code":"IN"}}}`,
			"919876543210", SourceShopifyOrder, "IN"},
		{"billing phone falls back to shipping country", `{"id":1,"billing_address":{"phone":"912 345 678"},"shipping_address":{"country_code":"PT"}}`,
			"351912345678", SourceShopifyBilling, "PT"},
		{"skips empty and unusable", `{"id":1,"customer":{"phone":"  "},"billing_address":{"phone":"","country_code":"US"},"shipping_address":{"phone":"555-555-SHIP","country_code":"US"},"phone":"+1 (415) 555-2671"}`,
			"14155552671", SourceShopifyOrder, "US"},
		{"default address phone", `{"id":1,"customer":{"default_address":{"phone":"082 123 4567","country_code":"ZA"}}}`,
			"27821234567", SourceShopifyDefaultAddress, "ZA"},
		{"country of the chosen phone", `{"id":1,"billing_address":{"country_code":"US","phone":"x"},"shipping_address":{"country_code":"GB","phone":"07911 123456"}}`,
			"447911123456", SourceShopifyShipping, "GB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := ParseShopifyOrder([]byte(tt.body))
			require.NoError(t, err)
			d, src, ok := o.Phone()
			assert.Equal(t, tt.digits, d, "Phone() = %q, %q, %v; want %q, %q", d, src, ok, tt.digits, tt.src)
			assert.Equal(t, tt.src, src, "Phone()")
			assert.True(t, ok, "Phone()")
			assert.Equal(t, tt.country, o.CountryCode, "CountryCode = %q, want %q", o.CountryCode, tt.country)
		})
	}
}

func TestMissingPhone(t *testing.T) {
	bodies := []struct {
		parse func([]byte) (Order, error)
		body  string
	}{
		{ParseShopifyOrder, `{"id":1}`},
		{ParseShopifyOrder, `{"id":1,"phone":null,"customer":{"phone":null,"default_address":{"phone":""}},"billing_address":{"phone":" "},"shipping_address":null}`},
		{ParseShopifyOrder, `{"id":1,"billing_address":{"phone":"98765-4321"}}`}, // local, no country anywhere
		{ParseWooCommerceOrder, `{"id":1}`},
		{ParseWooCommerceOrder, `{"id":1,"billing":{"phone":"","country":"BR"},"shipping":{"phone":null}}`},
		{ParseWooCommerceOrder, `{"id":1,"billing":{"phone":"n/a","country":"BR"}}`},
	}
	for _, b := range bodies {
		o, err := b.parse([]byte(b.body))
		require.NoError(t, err, "%s: %v", b.body, err)
		d, src, ok := o.Phone()
		assert.False(t, ok, "%s: Phone() = %q, %q, %v; want none", b.body, d, src, ok)
		assert.Empty(t, d, "%s: Phone() = %q, %q, %v; want none", b.body, d, src, ok)
		assert.Empty(t, src, "%s: Phone() = %q, %q, %v; want none", b.body, d, src, ok)
	}
}

func TestWooCommerceFields(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, o Order)
	}{
		{"brazilian order", `{"id":4321,"number":"4321","status":"completed","currency":"BRL","total":"199.90",
			"billing":{"first_name":"Ana","last_name":"Silva","email":"ana@example.com.br","phone":"(11) 98765-4321","country":"BR"},
			"shipping":{"phone":"","country":"BR"}}`,
			func(t *testing.T, o Order) {
				d, src, ok := o.Phone()
				assert.Equal(t, "5511987654321", d, "Phone() = %q, %q, %v", d, src, ok)
				assert.Equal(t, SourceWooBilling, src, "Phone()")
				assert.True(t, ok, "Phone()")
				assert.Equal(t, "#4321", o.Name, "%+v", o)
				assert.Equal(t, "completed", o.Status, "%+v", o)
				assert.Equal(t, "199.90", o.Total, "%+v", o)
				assert.Equal(t, "BR", o.CountryCode, "%+v", o)
			}},
		{"shipping phone with its own country", `{"id":9,"billing":{"phone":"","country":"US"},"shipping":{"phone":"0151 12345678","country":"DE"}}`,
			func(t *testing.T, o Order) {
				d, src, ok := o.Phone()
				assert.Equal(t, "4915112345678", d, "Phone() = %q, %q, %v; country %q", d, src, ok, o.CountryCode)
				assert.Equal(t, SourceWooShipping, src, "Phone()")
				assert.True(t, ok, "Phone()")
				assert.Equal(t, "DE", o.CountryCode, "Phone()")
			}},
		{"shipping phone uses billing country", `{"id":9,"billing":{"country":"GB"},"shipping":{"phone":"07911 123456"}}`,
			func(t *testing.T, o Order) {
				d, _, ok := o.Phone()
				assert.Equal(t, "447911123456", d, "Phone() = %q, %v", d, ok)
				assert.True(t, ok, "Phone()")
			}},
		{"custom order number", `{"id":9,"number":"WC-2024-0009"}`,
			func(t *testing.T, o Order) {
				assert.Equal(t, "WC-2024-0009", o.Number, "%+v", o)
				assert.Equal(t, "#WC-2024-0009", o.Name, "%+v", o)
				assert.Equal(t, "9", o.ID, "%+v", o)
			}},
		{"number missing: id", `{"id":9}`,
			func(t *testing.T, o Order) {
				assert.Equal(t, "9", o.Number, "%+v", o)
				assert.Equal(t, "#9", o.Name, "%+v", o)
			}},
		{"numeric number and total", `{"id":9,"number":9,"total":29.35}`,
			func(t *testing.T, o Order) {
				assert.Equal(t, "9", o.Number, "%+v", o)
				assert.Equal(t, "29.35", o.Total, "%+v", o)
			}},
		{"wc- status prefix", `{"id":9,"status":"wc-completed"}`,
			func(t *testing.T, o Order) {
				assert.Equal(t, "completed", o.Status, "Status = %q", o.Status)
			}},
		{"created gmt fallback", `{"id":9,"date_created":null,"date_created_gmt":"2017-03-22T19:28:02"}`,
			func(t *testing.T, o Order) {
				assert.Equal(t, "2017-03-22T19:28:02", o.CreatedAt, "CreatedAt = %q", o.CreatedAt)
			}},
		{"php empty arrays", `{"id":9,"billing":[],"shipping":[ ],"meta_data":[]}`,
			func(t *testing.T, o Order) {
				assert.Empty(t, o.Phones, "%+v", o)
				assert.Empty(t, o.CountryCode, "%+v", o)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := ParseWooCommerceOrder([]byte(tt.body))
			require.NoError(t, err)
			assert.Equal(t, WooCommerce, o.Platform, "Platform = %q", o.Platform)
			tt.check(t, o)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, body, want string
		only             string // the one platform that reads the field; "" for both
	}{
		{"empty", "", "empty body", ""},
		{"blank", " \n", "empty body", ""},
		{"not json", "webhook_id=1", "not JSON", ""},
		{"html", "<html></html>", "not JSON", ""},
		{"array", `[{"id":1}]`, "not a JSON object", ""},
		{"string", `"order"`, "not a JSON object", ""},
		{"syntax", `{"id":1,}`, "not JSON", ""},
		{"truncated", `{"id":1`, "truncated JSON", ""},
		{"trailing data", `{"id":1} {"id":2}`, "data after the JSON object", ""},
		{"no id", `{"total":"1.00"}`, "no order id", ""},
		{"null id", `{"id":null}`, "no order id", ""},
		{"zero id", `{"id":0}`, `field "id"`, ""},
		{"negative id", `{"id":-5}`, `field "id"`, ""},
		{"fractional id", `{"id":1.5}`, `field "id"`, ""},
		{"exponent id", `{"id":1e3}`, `field "id"`, ""},
		{"id too large", `{"id":18446744073709551616}`, `field "id"`, ""},
		{"text id", `{"id":"abc"}`, `field "id"`, ""},
		{"object id", `{"id":{}}`, `field "id": unexpected object`, ""},
		{"bool id", `{"id":true}`, `field "id": unexpected bool`, ""},
		{"object phone", `{"id":1,"phone":{"x":1}}`, `field "phone": unexpected object`, Shopify},
		{"array total", `{"id":1,"total":[1]}`, `field "total": unexpected array`, WooCommerce},
		{"array total_price", `{"id":1,"total_price":[1]}`, `field "total_price": unexpected array`, Shopify},
		{"nested wrong type", `{"id":1,"billing":{"phone":true},"customer":{"phone":true}}`, `phone": unexpected bool`, ""},
		{"address not an object", `{"id":1,"billing":"x","billing_address":"x"}`, `unexpected string`, ""},
	}
	for _, tt := range tests {
		for _, p := range []struct {
			name  string
			parse func([]byte) (Order, error)
		}{{Shopify, ParseShopifyOrder}, {WooCommerce, ParseWooCommerceOrder}} {
			t.Run(p.name+"/"+tt.name, func(t *testing.T) {
				o, err := p.parse([]byte(tt.body))
				if tt.only != "" && tt.only != p.name {
					require.NoError(t, err, "%s does not read the field, yet: %v", p.name, err)
					return
				}
				require.Error(t, err, "accepted: %+v", o)
				assert.ErrorIs(t, err, ErrInvalidPayload, "%v does not wrap ErrInvalidPayload", err)
				if !strings.HasPrefix(err.Error(), p.name+" order: ") || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error %q; want it to start with %q and mention %q", err, p.name+" order: ", tt.want)
				}
				assert.Equal(t, Order{}, o, "partial order returned: %+v", o)
			})
		}
	}
}

func TestVars(t *testing.T) {
	o := Order{
		Platform: Shopify, ID: "820982911946154508", Number: "1001", Name: "#1001",
		Status: "fulfilled", Total: "199.90", Currency: "BRL", Email: "ana@example.com",
		FirstName: "Ana", LastName: "Silva",
	}
	want := map[string]string{
		"order_number": "1001", "number": "1001", "order_name": "#1001", "order_id": "820982911946154508",
		"total_price": "199.90", "total": "199.90", "currency": "BRL", "first_name": "Ana", "last_name": "Silva",
		"customer_name": "Ana Silva", "email": "ana@example.com", "status": "fulfilled", "shop": "",
	}
	if got := o.Vars(); !reflect.DeepEqual(got, want) {
		t.Errorf("Vars() = %v\nwant %v", got, want)
	}

	empty := Order{}.Vars()
	keys := make([]string, 0, len(empty))
	for k, v := range empty {
		assert.Empty(t, v, "Order{}.Vars()[%q] = %q", k, v)
		keys = append(keys, k)
	}
	slices.Sort(keys)
	wantKeys := []string{"currency", "customer_name", "email", "first_name", "last_name", "number", "order_id", "order_name", "order_number", "shop", "status", "total", "total_price"}
	assert.True(t, slices.Equal(keys, wantKeys), "keys = %v, want %v", keys, wantKeys)
	got := (Order{LastName: "Silva"}).Vars()["customer_name"]
	assert.Equal(t, "Silva", got, "customer_name with last name only = %q", got)
}

func fuzzParse(f *testing.F, parse func([]byte) (Order, error), platform string, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := parse(body)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidPayload, "error %v does not wrap ErrInvalidPayload", err)
			return
		}
		require.Equal(t, platform, o.Platform, "Platform = %q", o.Platform)
		if n, ok := parseID(o.ID); !ok || strconv.FormatUint(n, 10) != o.ID {
			t.Fatalf("ID %q is not a canonical positive integer", o.ID)
		}
		sources := map[string]bool{}
		for _, c := range o.Phones {
			require.NotEmpty(t, strings.TrimSpace(c.Raw), "candidate %+v: empty or untrimmed", c)
			require.Equal(t, strings.TrimSpace(c.Raw), c.Raw, "candidate %+v: empty or untrimmed", c)
			if c.Country != "" && alpha2(c.Country) != c.Country {
				t.Fatalf("candidate %+v: bad country", c)
			}
			sources[c.Source] = true
		}
		if d, src, ok := o.Phone(); ok {
			require.True(t, sources[src], "Phone() = %q, %q", d, src)
			require.GreaterOrEqual(t, len(d), 8, "Phone()")
			require.LessOrEqual(t, len(d), 15, "Phone()")
			require.True(t, allDigits(d), "Phone()")
		}
		_, err = Render("{{order_name}} {{ total }} {{customer_name}}", o.Vars())
		require.NoError(t, err)
	})
}

func FuzzParseShopifyOrder(f *testing.F) {
	fuzzParse(f, ParseShopifyOrder, Shopify,
		string(readTestdata(f, "shopify_orders_create.json")),
		`{"id":5990021234567890123,"customer":{"phone":"(11) 98765-4321"},"billing_address":{"country_code":"BR"}}`,
		`{"id":"820982911946154508","total_price":199.90,"billing_address":[],"customer":null}`,
		`{"id":1,"phone":{"x":1}}`, `[]`, ``, `{"id":1.5}`)
}

func FuzzParseWooCommerceOrder(f *testing.F) {
	fuzzParse(f, ParseWooCommerceOrder, WooCommerce,
		string(readTestdata(f, "woocommerce_order.json")),
		`{"id":4321,"number":"4321","billing":{"phone":"(11) 98765-4321","country":"BR"},"shipping":[]}`,
		`{"id":"9","total":29.35,"billing":null}`, `webhook_id=1`, `{"id":-1}`)
}
