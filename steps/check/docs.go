package check

import (
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
)

// This file documents the check kinds for people (steps.Documented):
// `drbook explain`, docs/kinds/check.md and the schema's descriptions.

var (
	_ steps.Documented = (*httpKind)(nil)
	_ steps.Documented = (*tcpKind)(nil)
)

func (*httpKind) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "請求一個網址並檢查其狀態碼與內容，並驗證 HTTPS 憑證",
		Params: map[string]steps.FieldDoc{
			"url":        steps.Required("The http:// or https:// URL to request.", "要請求之 http:// 或 https:// 網址。"),
			"method":     steps.Param("The HTTP method.", "HTTP 方法。"),
			"status":     steps.Param("The acceptable status code, or a list of them.", "可接受之狀態碼，或其清單。"),
			"body":       steps.Param("Text that must appear in the response body.", "回應內容中必須出現之文字。"),
			"body_regex": steps.Param("An RE2 regular expression the response body must match.", "回應內容必須符合之 RE2 正規表示式。"),
			"headers":    steps.Param("Request headers to send; Host sets the virtual host.", "要送出之請求標頭；Host 可指定虛擬主機。"),
			"timeout":    steps.Param("How long the whole request may take.", "整個請求之時限。"),
			"ca_file":    steps.Param("A PEM bundle to verify the server's certificate with, instead of the system's roots.", "用以驗證伺服器憑證之 PEM 憑證集，取代系統根憑證。"),
			"thumbprint": steps.Param("Pin the server certificate's SHA-256 fingerprint (hex, colons allowed); the certificate is then trusted by the pin alone, which is how self-signed appliance certificates are checked safely.",
				"釘選伺服器憑證之 SHA-256 指紋（十六進位，可含冒號）；憑證僅依此指紋信任，為安全檢查自簽憑證之方式。"),
			"server_name":      steps.Param("Override the TLS server name (SNI and verification).", "覆寫 TLS 伺服器名稱（SNI 與驗證）。"),
			"follow_redirects": steps.Param("Follow up to 10 redirects; off, a redirect is a status to check.", "最多跟隨 10 次轉址；關閉時轉址即為要檢查之狀態碼。"),
		},
		Result: map[string]journal.Text{
			"status":       steps.Text("The response's status code.", "回應之狀態碼。"),
			"elapsed_ms":   steps.Text("How long the request took, in milliseconds.", "請求所花時間（毫秒）。"),
			"body":         steps.Text("The start of the response body (4 KiB).", "回應內容之開頭（4 KiB）。"),
			"body_matched": steps.Text("Whether body and body_regex matched.", "body 與 body_regex 是否符合。"),
			"certificate":  steps.Text("The server certificate's SHA-256 fingerprint, for HTTPS.", "HTTPS 伺服器憑證之 SHA-256 指紋。"),
			"trusted_by":   steps.Text("Why the certificate was trusted: pinned or ca.", "信任憑證之依據：pinned 或 ca。"),
		},
		Example: `- id: service_check
  name: {en: "Test that the system works", zh-TW: "測試系統是否正常運作"}
  check.http: {url: "http://10.0.0.66/moiland/", status: 200, body: "Land"}
  retry: {attempts: 10, delay: 1s}`,
	}
}

func (*tcpKind) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "連線至 TCP 連接埠，並可檢查其問候訊息",
		Params: map[string]steps.FieldDoc{
			"address": steps.Required("host:port to connect to.", "要連線之 host:port。"),
			"timeout": steps.Param("How long connecting (and reading the greeting) may take.", "連線（及讀取問候訊息）之時限。"),
			"banner":  steps.Param("Text that must appear in what the server sends first, e.g. SSH-2.0 or \"220 \".", "伺服器最先送出之內容中必須出現之文字，例如 SSH-2.0 或 \"220 \"。"),
		},
		Result: map[string]journal.Text{
			"connected":  steps.Text("Whether the connection was made.", "是否連線成功。"),
			"elapsed_ms": steps.Text("How long connecting took, in milliseconds.", "連線所花時間（毫秒）。"),
			"banner":     steps.Text("What the server sent first, when banner was given.", "伺服器最先送出之內容（有指定 banner 時）。"),
		},
		Example: `- id: oracle_listener
  name: {en: "The Oracle listener answers", zh-TW: "Oracle 監聽程式有回應"}
  check.tcp: {address: "10.0.0.66:1521", timeout: 5s}`,
	}
}
