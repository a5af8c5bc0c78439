// Package fill sets every field of a value, recursively, to a value that
// is not its zero: tests round-trip such a value through a mapping (domain
// type → on-disk record → domain type) to prove that no field is left out,
// so a field added to a domain type fails the test until the record holds
// it.
package fill

import (
	"fmt"
	"reflect"
	"time"
)

// In fills *ptr. Strings become "<field>-<n>", numbers n, booleans true,
// times a fixed instant plus n seconds, pointers point to a filled value,
// slices and maps hold one filled element, byte slices hold one byte.
func In[T any](ptr *T) *T {
	n := 0
	fillValue(reflect.ValueOf(ptr).Elem(), "v", &n)
	return ptr
}

var timeType = reflect.TypeFor[time.Time]()

func fillValue(v reflect.Value, name string, n *int) {
	*n++
	if v.Type() == timeType {
		v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(*n) * time.Second)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("%s-%d", name, *n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(*n))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(*n))
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fillValue(p.Elem(), name, n)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fillValue(s.Index(0), name, n)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		fillValue(k, name+"-key", n)
		e := reflect.New(v.Type().Elem()).Elem()
		fillValue(e, name, n)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				fillValue(v.Field(i), t.Field(i).Name, n)
			}
		}
	case reflect.Interface:
		// Left nil: a test that needs one sets it.
	default:
		panic(fmt.Sprintf("fill: cannot fill %s (%s)", name, v.Kind()))
	}
}
