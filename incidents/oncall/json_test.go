package oncall

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Durations travel as the strings people write, and read back the same.
func TestDurationsInJSONAreStrings(t *testing.T) {
	a := Assignment{Policy: "default", StepName: "primary", Users: []string{"ana"}, AckTimeout: 45 * time.Second}
	s := Step{Name: "manager", Targets: []Target{{User: "mo"}}, AckTimeout: 90 * time.Minute}
	sc := Schedule{Name: "p", Users: []string{"ana"}, Start: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	for _, tc := range []struct {
		v    any
		want string
		back any
	}{
		{a, `"ack_timeout":"45s"`, &Assignment{}},
		{s, `"ack_timeout":"1h30m"`, &Step{}},
		{sc, `"shift":"1w"`, &Schedule{}},
	} {
		b, err := json.Marshal(tc.v)
		if err != nil || !strings.Contains(string(b), tc.want) || strings.Count(string(b), tc.want[:strings.Index(tc.want, ":")]) != 1 {
			t.Errorf("%T: %s, %v; want %s once", tc.v, b, err, tc.want)
		}
		if err := json.Unmarshal(b, tc.back); err != nil {
			t.Fatal(err)
		}
		got := reflect.ValueOf(tc.back).Elem().Interface()
		if sch, ok := got.(Schedule); ok {
			got, tc.v = sch.shift(), sc.shift()
		}
		if !reflect.DeepEqual(got, tc.v) {
			t.Errorf("round trip: %+v, want %+v", got, tc.v)
		}
	}
	if err := json.Unmarshal([]byte(`{"ack_timeout":"soon"}`), &Step{}); err == nil || !strings.Contains(err.Error(), `ack_timeout: "soon" is not a duration`) {
		t.Errorf("bad duration: %v", err)
	}
}
