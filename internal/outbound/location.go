package outbound

import (
	"encoding/json"
	"strconv"

	"github.com/pytake/pytake/internal/jsoncheck"
)

type location struct {
	Latitude  json.Number `json:"latitude"`
	Longitude json.Number `json:"longitude"`
	Name      string      `json:"name,omitempty"`
	Address   string      `json:"address,omitempty"`
}

func locationMessage(o *jsoncheck.Obj) *location {
	l := &location{
		Latitude:  coordinate(o, "latitude", 90),
		Longitude: coordinate(o, "longitude", 180),
		Name:      o.Text("name", false, maxLocationText),
		Address:   o.Text("address", false, maxLocationText),
	}
	return l
}

// coordinate reads a number from -limit to limit, keeping its literal text.
func coordinate(o *jsoncheck.Obj, key string, limit float64) json.Number {
	n, ok := o.Number(key, true)
	if !ok {
		return ""
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f < -limit || f > limit {
		o.C.Fail(o.At(key), "must be from %g to %g", -limit, limit)
	}
	return n
}
