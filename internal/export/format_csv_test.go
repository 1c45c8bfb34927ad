package export

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func encodeCSV[T any](t testing.TB, rows []T, compress string) []byte {
	t.Helper()
	var b bytes.Buffer
	e, err := newCSVEncoder[T](&b, compress)
	if err == nil {
		err = e.encode(rows)
	}
	if err == nil {
		err = e.close()
	}
	if err != nil {
		t.Fatalf("encoding %d rows: %v", len(rows), err)
	}
	return b.Bytes()
}

// TestCSVRows checks the CSV form of a row: the header from the parquet
// tags, numbers as numbers, an absent optional column empty, texts quoted
// where CSV needs it.
func TestCSVRows(t *testing.T) {
	amount := uint64(7)
	rows := []TxRow{
		{Tx: 5_000_001, Height: 5, Index: 1, Status: 3, Path: 2, Error: `no, "really"`, To: "ab", Amount: &amount, Traced: 1},
		{Tx: 6_000_000, Height: 6, Input: "00ff", Error: "two\nlines"},
	}
	got := string(encodeCSV(t, rows, CompressNone))
	want := "tx,height,index,id,nonce,from,contract,function,input,gas_limit,sig,status,gas_used,path,error,result,to,amount,event_count,traced,frame_count,frames_dropped\n" +
		`5000001,5,1,,0,,0,0,,0,,3,0,2,"no, ""really""",,ab,7,0,1,0,0` + "\n" +
		"6000000,6,0,,0,,0,0,00ff,0,,0,0,0,\"two\nlines\",,,,0,0,0,0\n"
	if got != want {
		t.Errorf("CSV =\n%s\nwant\n%s", got, want)
	}
	back, err := readCSV[TxRow](strings.NewReader(got), CompressNone)
	if err != nil || !reflect.DeepEqual(back, rows) {
		t.Errorf("readCSV = %+v, %v, want %+v", back, err, rows)
	}
}

// TestCSVRejects lists files readCSV refuses.
func TestCSVRejects(t *testing.T) {
	for _, in := range []string{
		"",                                      // no header
		"height,hash\n",                         // another kind's header
		"tx,seq,name,data\n1,2,3\n",             // a column short
		"tx,seq,name,data\nx,0,a,00\n",          // not a number
		"tx,seq,name,data\n-1,0,a,00\n",         // negative
		"tx,seq,name,data\n1,4294967296,a,00\n", // past uint32
	} {
		if rows, err := readCSV[EventRow](strings.NewReader(in), CompressNone); err == nil {
			t.Errorf("readCSV(%q) = %+v, nil, want an error", in, rows)
		}
	}
}

// FuzzReadCSV feeds the CSV reader any bytes: it must not panic, and
// what it reads must encode to a file it reads back the same.
func FuzzReadCSV(f *testing.F) {
	amount := uint64(9)
	f.Add(encodeCSV(f, []TxRow{{Tx: 1, ID: "ab", Error: "a,b\n\"c\"", Amount: &amount}, {}}, CompressNone))
	f.Add([]byte("tx,height\n1,2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := readCSV[TxRow](bytes.NewReader(data), CompressNone)
		if err != nil {
			return
		}
		again, err := readCSV[TxRow](bytes.NewReader(encodeCSV(t, rows, CompressNone)), CompressNone)
		if err != nil || !reflect.DeepEqual(again, rows) {
			t.Fatalf("read, write, read = %+v, %v, want %+v", again, err, rows)
		}
	})
}
