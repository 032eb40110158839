package i18n

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

func TestErrorfSpeaksBothLanguagesAndWraps(t *testing.T) {
	err := Errorf("host %s did not answer: %w", "主機 %s 未回應：%w", "esx-68", fs.ErrNotExist)
	if got, want := err.Error(), "host esx-68 did not answer: file does not exist"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := In(err, "zh-TW"), "主機 esx-68 未回應：file does not exist"; got != want {
		t.Errorf("In(zh-TW) = %q, want %q", got, want)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Error("the wrapped error is lost")
	}
}

func TestInKeepsAnEnglishFrameAroundABilingualError(t *testing.T) {
	inner := New("the VM is powered off", "VM 已關機")
	outer := fmt.Errorf("step ha: %w", inner)
	if got, want := In(outer, "zh-TW"), "step ha: VM 已關機"; got != want {
		t.Errorf("In(zh-TW) = %q, want %q", got, want)
	}
	if got := In(outer, "en"); got != outer.Error() {
		t.Errorf("In(en) = %q, want %q", got, outer.Error())
	}
	if got := TextOf(outer); got.EN != outer.Error() || got.ZhTW != "step ha: VM 已關機" {
		t.Errorf("TextOf = %+v", got)
	}
	if got := TextOf(errors.New("foreign")); got.ZhTW != "" {
		t.Errorf("TextOf(foreign).ZhTW = %q, want empty", got.ZhTW)
	}
}

// TestErrorfAroundABilingualErrorIsChineseThroughout: a bilingual error
// wrapped by another (a command's frame around a kind's error) is Chinese
// inside the Chinese frame, not its English words.
func TestErrorfAroundABilingualErrorIsChineseThroughout(t *testing.T) {
	inner := Errorf("host %s is not connected: %w", "主機 %s 未連線：%w", "esx-68", fs.ErrNotExist)
	outer := Errorf("cannot start run %s: %w", "無法開始執行 %s：%w", "r1", inner)
	if got, want := In(outer, "zh-TW"), "無法開始執行 r1：主機 esx-68 未連線：file does not exist"; got != want {
		t.Errorf("In(zh-TW) = %q, want %q", got, want)
	}
	if got, want := outer.Error(), "cannot start run r1: host esx-68 is not connected: file does not exist"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(outer, fs.ErrNotExist) {
		t.Error("the wrapped error is lost")
	}
}
