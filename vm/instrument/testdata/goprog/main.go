// Command goprog is a Go program built for GOOS=wasip1 by the instrument
// tests: it exercises what Go's toolchain emits (floats, bulk memory,
// saturating truncation, sign extension, indirect calls, memory growth) and
// prints a result that depends on all of it.
package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"sort"
	"strconv"
	"strings"
)

type shape interface{ area() float64 }

type circle struct{ r float64 }
type square struct{ s float64 }

func (c circle) area() float64 { return math.Pi * c.r * c.r }
func (s square) area() float64 { return s.s * s.s }

func fib(n int) *big.Int {
	a, b := big.NewInt(0), big.NewInt(1)
	for range n {
		a.Add(a, b)
		a, b = b, a
	}
	return a
}

func safeDiv(a, b int) (q int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New(fmt.Sprint(r))
		}
	}()
	return a / b, nil
}

func main() {
	var out strings.Builder
	words := map[string]int{}
	for i := range 2000 {
		words["w"+strconv.Itoa(i%97)] += i
	}
	keys := make([]string, 0, len(words))
	for k := range words {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintln(&out, len(keys), keys[:3], words[keys[0]])

	shapes := []shape{circle{1.5}, square{2}, circle{0.25}}
	total := 0.0
	for _, s := range shapes {
		total += s.area()
	}
	neg := float32(-3.75) * float32(len(keys)) / 97
	fmt.Fprintf(&out, "%.6f %d %d\n", total, int64(math.Sqrt(2)*1e9), int32(neg))

	ch := make(chan int)
	go func() {
		for i := range 100 {
			ch <- i * i
		}
		close(ch)
	}()
	sum := 0
	for v := range ch {
		sum += v
	}
	fmt.Fprintln(&out, sum, fib(300).String()[:20])

	big := make([]byte, 256<<10) // grows memory
	for i := range big {
		big[i] = byte(i * 7)
	}
	copy(big[1:], big)
	clear(big[:4096])
	fmt.Fprintf(&out, "%x\n", sha256.Sum256(big))

	_, err := safeDiv(1, len(os.Args)-len(os.Args))
	fmt.Fprintln(&out, err, int8(sum), int16(sum), uint8(total*10))
	os.Stdout.WriteString(out.String())
}
