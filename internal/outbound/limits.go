package outbound

// Meta's send limits, in characters (Unicode code points).
const (
	maxTextBody      = 4096
	maxCaption       = 1024
	maxFilename      = 240
	maxLink          = 2048
	maxButtonBody    = 1024 // interactive button and cta_url body
	maxListBody      = 4096
	maxHeaderText    = 60
	maxFooterText    = 60
	maxButtons       = 3
	maxButtonID      = 256
	maxButtonTitle   = 20
	maxListButton    = 20
	maxSections      = 10
	maxRows          = 10 // across all sections
	maxSectionTitle  = 24
	maxRowID         = 200
	maxRowTitle      = 24
	maxRowDesc       = 72
	maxCTADisplay    = 20
	maxTemplateName  = 512
	maxBodyParam     = 1024
	maxHeaderParam   = 60
	maxFooterParam   = 60
	maxButtonParam   = 1024 // PyTake's bound: Meta documents none for a URL suffix or payload
	maxCouponCode    = 15
	maxLocationText  = 1000
	maxEmoji         = 32 // PyTake's bound: one emoji, ZWJ sequences included
	maxMediaID       = 256
	maxParameterName = 512
)
