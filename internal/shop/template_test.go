package shop

import (
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRender(t *testing.T) {
	vars := Order{
		ID: "820982911946154508", Number: "1001", Name: "#1001", Total: "199.90", Currency: "BRL",
		FirstName: "Ana", LastName: "Silva", Email: "{{email}}", Status: "completed",
	}.Vars()
	vars["shop"] = "Loja da Ana"

	tests := []struct {
		name, tmpl, want string
	}{
		{"plain", "Obrigado pela compra!", "Obrigado pela compra!"},
		{"empty", "", ""},
		{"names", "Olá {{first_name}}, pedido {{order_name}}: {{currency}} {{total_price}}", "Olá Ana, pedido #1001: BRL 199.90"},
		{"spaces inside braces", "{{ customer_name }} / {{\tnumber\t}} / {{  total}}", "Ana Silva / 1001 / 199.90"},
		{"repeated", "{{first_name}}{{first_name}}", "AnaAna"},
		{"aliases", "{{order_number}}={{number}} {{total}}={{total_price}}", "1001=1001 199.90=199.90"},
		{"ids exact", "{{order_id}}", "820982911946154508"},
		{"caller-filled shop", "{{shop}}: {{status}}", "Loja da Ana: completed"},
		{"values not re-expanded", "e-mail: {{email}}", "e-mail: {{email}}"},
		{"single braces are text", "{first_name} {{first_name}}} }}", "{first_name} Ana} }}"},
		{"unicode around", "✅ {{first_name}} ✅", "✅ Ana ✅"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(tt.tmpl, vars)
			assert.NoError(t, err, "Render(%q) = %q, %v; want %q", tt.tmpl, got, err, tt.want)
			assert.Equal(t, tt.want, got, "Render(%q) = %q, %v; want %q", tt.tmpl, got, err, tt.want)
		})
	}
}

func TestRenderErrors(t *testing.T) {
	vars := Order{}.Vars()
	tests := []struct {
		name, tmpl string
		unknown    []string // nil: a syntax error
		mention    string
	}{
		{"unknown", "Hi {{nome}}", []string{"nome"}, "{{nome}}"},
		{"several unknown, deduplicated", "{{nome}} {{first_name}} {{x}} {{ nome }}", []string{"nome", "x"}, "{{nome}}, {{x}}"},
		{"case-sensitive", "{{First_Name}}", []string{"First_Name"}, "known: currency, customer_name"},
		{"numbered WhatsApp variable", "{{1}}", []string{"1"}, "{{1}}"},
		{"space inside name", "{{first name}}", nil, `"{{first name}}"`},
		{"empty name", "{{}}", nil, "malformed placeholder"},
		{"blank name", "{{  }}", nil, "malformed placeholder"},
		{"dash", "{{first-name}}", nil, "malformed placeholder"},
		{"triple braces", "{{{first_name}}}", nil, "malformed placeholder"},
		{"unclosed", "Hi {{first_name", nil, "unclosed {{"},
		{"unclosed after good one", "{{first_name}} {{", nil, "unclosed {{"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(tt.tmpl, vars)
			require.Error(t, err, "Render(%q) = %q, want an error", tt.tmpl, got)
			assert.Empty(t, got, "partial output %q", got)
			assert.ErrorIs(t, err, ErrTemplate, "%v is not ErrTemplate", err)
			assert.Contains(t, err.Error(), tt.mention, "error %q does not mention %q", err, tt.mention)
			var unk *UnknownPlaceholdersError
			require.Equal(t, tt.unknown != nil, errors.As(err, &unk), "error %T, want unknown names %v", err, tt.unknown)
			if unk != nil && !slices.Equal(unk.Names, tt.unknown) {
				t.Errorf("Names = %v, want %v", unk.Names, tt.unknown)
			}
			if unk != nil && !slices.IsSorted(unk.Known) {
				t.Errorf("Known not sorted: %v", unk.Known)
			}
			assert.Error(t, ValidateTemplate(tt.tmpl), "ValidateTemplate accepted it")
		})
	}
	if _, err := Render("{{a}}", nil); err == nil {
		t.Error("nil vars: unknown name accepted")
	}
	got, err := Render("no placeholders", nil)
	assert.NoError(t, err, "nil vars, no placeholders: %q, %v", got, err)
	assert.Equal(t, "no placeholders", got, "nil vars, no placeholders")
}

func TestPlaceholders(t *testing.T) {
	tests := []struct {
		tmpl string
		want []string
	}{
		{"", nil},
		{"no placeholders {here}", nil},
		{"{{first_name}}", []string{"first_name"}},
		{"{{ a }} {{b}} {{a}} {{ b\t}}", []string{"a", "b"}},
		{"{{a}} {{bad name}} {{c}}", []string{"a", "c"}},
		{"{{a}} {{c", []string{"a"}},
		{"{{1}} {{order_number}}", []string{"1", "order_number"}},
	}
	for _, tt := range tests {
		got := Placeholders(tt.tmpl)
		assert.True(t, slices.Equal(got, tt.want), "Placeholders(%q) = %v, want %v", tt.tmpl, got, tt.want)
	}
}

func TestValidateTemplate(t *testing.T) {
	for _, tmpl := range []string{
		"",
		"Olá {{ first_name }}! Seu pedido {{order_name}} ({{order_number}}, id {{order_id}}) de {{currency}} {{total_price}} está {{status}}.",
		"{{customer_name}} {{last_name}} {{email}} {{number}} {{total}} {{shop}}",
	} {
		err := ValidateTemplate(tmpl)
		assert.NoError(t, err, "ValidateTemplate(%q) = %v", tmpl, err)
	}
	err := ValidateTemplate("{{phone}}")
	assert.Error(t, err, "{{phone}} accepted")
}
