package harness

import (
	"errors"
	"slices"
	"testing"
)

func TestAddTable(t *testing.T) {
	var r Result
	if err := r.AddTable("a.csv", nil); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk full")
	if err := r.AddTable("b.csv", boom); err != boom {
		t.Fatalf("err = %v, want the writer's error", err)
	}
	if err := r.AddTable("c.npy", nil); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a.csv", "c.npy"}; !slices.Equal(r.Tables, want) {
		t.Fatalf("Tables = %v, want %v (a failed write is not recorded)", r.Tables, want)
	}
}
