package awsapi

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseXML(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"plain", `<a><b>x</b></a>`, true},
		{"declaration, comments, attributes", "\uFEFF<?xml version=\"1.0\"?>\n<!-- c --><a x=\"1 > 2\" y='/>'><b/><!-- <c> --></a>\n", true},
		{"namespaced", `<s:a xmlns:s="u"><s:b>t</s:b></s:a>`, true},
		{"cdata", `<a><![CDATA[<not a tag>]]></a>`, true},
		{"empty", ``, false},
		{"text only", `hello`, false},
		{"unclosed", `<a><b></b>`, false},
		{"mismatched", `<a><b></a></b>`, false},
		{"two roots", `<a/><b/>`, false},
		{"doctype", `<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`, false},
		{"doctype inside", `<a><!DOCTYPE a></a>`, false},
		{"unknown entity", `<a>&x;</a>`, false},
		{"control char ref", `<a>&#0;</a>`, false},
		{"surrogate ref", `<a>&#xD800;</a>`, false},
		{"unterminated comment", `<a><!-- </a>`, false},
		{"unterminated attribute", `<a x="1></a>`, false},
		{"bad utf8", "<a>\xff</a>", false},
		{"too deep", strings.Repeat("<a>", maxXMLDepth+1) + strings.Repeat("</a>", maxXMLDepth+1), false},
		{"trailing text", `<a/>x`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseXML([]byte(tt.in))
			assert.Equal(t, tt.ok, err == nil, "err %v", err)
		})
	}
	n, err := parseXML([]byte(`<a><b>1 &amp; &#50;&#x33; &lt;&gt;&quot;&apos;</b><c><![CDATA[x&y]]></c></a>`))
	require.NoError(t, err)
	assert.Equal(t, `1 & 23 <>"'`, n.child("b").text)
	assert.Equal(t, `x&y`, n.child("c").text)
}

func TestParseXMLError(t *testing.T) {
	code, msg, id := parseXMLError(nil, []byte(`<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>Invalid parameter: TopicArn</Message></Error><RequestId>r-9</RequestId></ErrorResponse>`))
	assert.Equal(t, []string{"InvalidParameter", "Invalid parameter: TopicArn", "r-9"}, []string{code, msg, id})
	code, msg, _ = parseXMLError(nil, []byte(`<Response><Errors><Error><Code>Throttling</Code><Message>m</Message></Error></Errors><RequestID>x</RequestID></Response>`))
	assert.Equal(t, []string{"Throttling", "m"}, []string{code, msg})
}

// FuzzParseXML: the parser never panics, and what it accepts encoding/xml
// reads as one element with the same name.
func FuzzParseXML(f *testing.F) {
	for _, s := range []string{
		`<PublishBatchResponse><PublishBatchResult><Successful><member><Id>0</Id><MessageId>m</MessageId></member></Successful><Failed/></PublishBatchResult></PublishBatchResponse>`,
		`<ErrorResponse><Error><Code>Throttling</Code><Message>a &amp; b</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
		`<?xml version="1.0"?><a x="1"><!-- c --><b/><![CDATA[x]]></a>`,
		`<a>&#x41;&#66;</a>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		root, err := parseXML(b)
		_, _, _ = parseXMLError(nil, b)
		_, _ = parsePublishBatch(b)
		if err != nil {
			return
		}
		if root == nil || root.name == "" {
			t.Fatalf("accepted %q with no root", b)
		}
	})
}

// FuzzPublishBatchRoundTrip: a response written by encoding/xml from any
// ids, codes and messages reads back the same.
func FuzzPublishBatchRoundTrip(f *testing.F) {
	f.Add("0", "m-0", "1", "InternalError", "a <b> & c")
	f.Add("", "", "", "", "")
	f.Add("ü", "\t\n", "x]]>y", "&amp;", "\"'")
	f.Fuzz(func(t *testing.T, okID, msgID, failID, code, message string) {
		type member struct {
			ID          string `xml:"Id"`
			MessageID   string `xml:"MessageId,omitempty"`
			Code        string `xml:"Code,omitempty"`
			Message     string `xml:"Message,omitempty"`
			SenderFault bool   `xml:"SenderFault,omitempty"`
		}
		doc := struct {
			XMLName    xml.Name `xml:"PublishBatchResponse"`
			NS         string   `xml:"xmlns,attr"`
			Successful []member `xml:"PublishBatchResult>Successful>member"`
			Failed     []member `xml:"PublishBatchResult>Failed>member"`
			RequestID  string   `xml:"ResponseMetadata>RequestId"`
		}{NS: "http://sns.amazonaws.com/doc/2010-03-31/", Successful: []member{{ID: okID, MessageID: msgID}},
			Failed: []member{{ID: failID, Code: code, Message: message, SenderFault: true}}, RequestID: "r"}
		var buf bytes.Buffer
		buf.WriteString(xml.Header)
		if err := xml.NewEncoder(&buf).Encode(doc); err != nil {
			return
		}
		// What encoding/xml itself reads back is the reference (it drops
		// characters XML cannot carry).
		var back struct {
			Successful []member `xml:"PublishBatchResult>Successful>member"`
			Failed     []member `xml:"PublishBatchResult>Failed>member"`
		}
		if err := xml.Unmarshal(buf.Bytes(), &back); err != nil {
			return
		}
		out, err := parsePublishBatch(buf.Bytes())
		if err != nil {
			t.Fatalf("parse %q: %v", buf.String(), err)
		}
		want := &BatchOutput{
			Successful: []BatchSuccess{{ID: strings.TrimSpace(back.Successful[0].ID), MessageID: strings.TrimSpace(back.Successful[0].MessageID)}},
			Failed:     []BatchFailure{{ID: strings.TrimSpace(back.Failed[0].ID), Code: strings.TrimSpace(back.Failed[0].Code), Message: strings.TrimSpace(back.Failed[0].Message), SenderFault: true}},
		}
		assert.Equal(t, want, out, "document %q", buf.String())
	})
}
