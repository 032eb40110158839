package ssh

import (
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
)

// This file documents the ssh kinds for people (steps.Documented):
// `drbook explain`, docs/kinds/ssh.md and the schema's descriptions.

var (
	_ steps.Documented = (*exec)(nil)
	_ steps.Documented = (*upload)(nil)
	_ steps.Documented = (*download)(nil)
	_ steps.Documented = (*transfer)(nil)
	_ steps.Documented = (*backup)(nil)
	_ steps.Documented = (*backupCheck)(nil)
	_ steps.Documented = (*restoreTar)(nil)
	_ steps.Documented = (*editFile)(nil)
	_ steps.Documented = (*mkdir)(nil)
	_ steps.Documented = (*service)(nil)
	_ steps.Documented = (*waitReachable)(nil)
)

// targetDocs documents Target, which every kind but ssh.transfer inlines.
var targetDocs = map[string]steps.FieldDoc{
	"host": steps.Param("The guest to act on: its name in the site file's guests (give host or guest).",
		"要操作之客體：site 檔 guests 中之名稱（host 與 guest 擇一）。"),
	"guest": steps.Param("A synonym of host, for runbooks that prefer the word.", "host 之同義詞。"),
	"connect_timeout": steps.Param("How long connecting may take when the run has no connection to the guest yet; 15s when unset.",
		"本次執行尚未連線至該客體時之連線時限；未指定時為 15s。"),
}

var targetOneOf = [][]string{{"host", "guest"}}

var loginPreflight = steps.Text("Logs in to the guest over SSH, trusting only its pinned host key (or --accept-new).",
	"以 SSH 登入客體；僅信任已釘選之主機金鑰（或 --accept-new）。")

// withTarget returns docs with Target's parameters added.
func withTarget(docs map[string]steps.FieldDoc) map[string]steps.FieldDoc {
	for k, v := range targetDocs {
		docs[k] = v
	}
	return docs
}

var fileResultDocs = map[string]journal.Text{
	"path":   steps.Text("The file written.", "寫入之檔案。"),
	"size":   steps.Text("Its size in bytes.", "檔案大小（位元組）。"),
	"sha256": steps.Text("Its SHA-256, hex.", "檔案之 SHA-256（十六進位）。"),
}

func (*exec) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "於客體上執行指令或腳本，擷取輸出並檢查結束代碼",
		OneOf:       append([][]string{{"command", "script"}}, targetOneOf...),
		Params: withTarget(map[string]steps.FieldDoc{
			"command":     steps.Param("One shell command line, run as given; interpolated values are shell-quoted.", "一行 shell 指令，原樣執行；插入之值會自動加上 shell 引號。"),
			"script":      steps.Param("A multi-line script, run with shell -c (instead of command).", "多行腳本，以 shell -c 執行（與 command 擇一）。"),
			"shell":       steps.Param("The program that runs script, e.g. /bin/bash.", "執行 script 之程式，例如 /bin/bash。"),
			"expect_exit": steps.Param("The exit codes that count as success.", "視為成功之結束代碼。"),
			"assert": steps.Param("An expr condition over stdout, stderr and exit_code that must hold, e.g. stdout contains \"active\".",
				"以 stdout、stderr 與 exit_code 撰寫之 expr 條件，必須成立，例如 stdout contains \"active\"。"),
			"output_cap": steps.Param("How many bytes of each stream the result keeps; the full text goes to the run's artifacts.",
				"結果保留之各輸出位元組數；完整內容存於本次執行之附件。"),
		}),
		Result: map[string]journal.Text{
			"exit_code": steps.Text("The command's exit code.", "指令之結束代碼。"),
			"stdout":    steps.Text("Its output, up to output_cap bytes.", "標準輸出，最多 output_cap 位元組。"),
			"stderr":    steps.Text("Its error output, up to output_cap bytes.", "錯誤輸出，最多 output_cap 位元組。"),
			"truncated": steps.Text("The output was longer than output_cap.", "輸出超過 output_cap。"),
			"seconds":   steps.Text("How long the command ran.", "指令執行秒數。"),
		},
		Preflight: []journal.Text{loginPreflight},
		Example: `- id: disk_free
  name: {en: "Enough room in /APBACKUP", zh-TW: "確認 /APBACKUP 空間足夠"}
  ssh.exec:
    host: ap02
    command: df -P /APBACKUP
    assert: exit_code == 0 && stdout contains "/"`,
	}
}

func (*upload) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "以 SFTP 將操作人員電腦上之檔案上傳至客體",
		OneOf:       targetOneOf,
		Params: withTarget(map[string]steps.FieldDoc{
			"src":  steps.Required("The file on the operator's machine.", "操作人員電腦上之檔案。"),
			"dest": steps.Required("The path on the guest; a trailing / means into this directory.", "客體上之路徑；以 / 結尾表示放入該目錄。"),
			"mode": steps.Param("The copy's octal mode, e.g. \"0644\"; the source's when empty.", "複本之八進位權限，例如 \"0644\"；未指定時沿用來源。"),
		}),
		Result: fileResultDocs,
		Example: `- id: push_script
  name: {en: "Copy the check script to the AP server", zh-TW: "將檢查腳本複製到 AP 伺服器"}
  ssh.upload: {host: ap02, src: ./check-ap.sh, dest: /root/, mode: "0755"}`,
	}
}

func (*download) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "以 SFTP 將客體上之檔案下載至操作人員電腦",
		OneOf:       targetOneOf,
		Params: withTarget(map[string]steps.FieldDoc{
			"src":  steps.Required("The path on the guest.", "客體上之路徑。"),
			"dest": steps.Required("Where to write on the operator's machine.", "寫入操作人員電腦之位置。"),
		}),
		Result: fileResultDocs,
		Example: `- id: keep_conf
  name: {en: "Keep a copy of httpd.conf", zh-TW: "保存 httpd.conf 副本"}
  ssh.download: {host: ap02, src: /etc/httpd/conf/httpd.conf, dest: ./evidence/httpd.conf}`,
	}
}

func (*transfer) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "經由 drbook 將檔案自一台客體串流至另一台，並於兩端驗證 SHA-256",
		Params: map[string]steps.FieldDoc{
			"from":            steps.Required("The source guest's name in the site file.", "來源客體於 site 檔之名稱。"),
			"to":              steps.Required("The destination guest's name in the site file.", "目的客體於 site 檔之名稱。"),
			"src":             steps.Required("The file on the source guest, read by cat: its bytes pass through drbook in the SSH connections' own packets (no SFTP server carries them), so the login shell's startup files must print nothing for a command.", "來源客體上之檔案，以 cat 讀取：其位元組經由 drbook 以 SSH 連線本身之封包傳送（不經 SFTP 伺服器），故登入 shell 之啟動檔對非互動指令不得輸出任何內容。"),
			"dest":            steps.Required("The path on the destination; a trailing / or an existing directory means into it. cat writes DEST.drbook-part, which is renamed over DEST only when it holds exactly the source's size; a failed copy leaves no part file.", "目的客體上之路徑；以 / 結尾或為既有目錄時表示放入該目錄。cat 先寫入 DEST.drbook-part，僅於其大小與來源完全相同時才更名覆蓋 DEST；複製失敗時不留下暫存檔。"),
			"mode":            steps.Param("The copy's octal mode; the source's when empty.", "複本之八進位權限；未指定時沿用來源。"),
			"verify":          steps.Param("Run sha256sum on both guests after the copy, at the same time, and compare: one more read of the file at each end.", "複製後於兩端同時執行 sha256sum 並比對：兩端各多讀一次檔案。"),
			"connect_timeout": steps.Param("How long connecting to either guest may take; 15s when unset.", "連線至任一客體之時限；未指定時為 15s。"),
		},
		Result: map[string]journal.Text{
			"path":          steps.Text("The file written on the destination.", "目的端寫入之檔案。"),
			"bytes":         steps.Text("How many bytes were copied.", "複製之位元組數。"),
			"sha256":        steps.Text("The SHA-256 both guests computed for their copy, hex; empty with verify: false (nothing hashes the stream).", "兩端對各自檔案計算出之相同 SHA-256（十六進位）；verify: false 時為空（串流過程不計算雜湊）。"),
			"seconds":       steps.Text("How long the copy took.", "複製所花秒數。"),
			"mb_per_second": steps.Text("The copy's throughput in MB/s.", "傳輸速率（MB/s）。"),
			"verified":      steps.Text("Both guests' sha256sum matched each other.", "兩端 sha256sum 結果一致。"),
		},
		Preflight: []journal.Text{
			steps.Text("Logs in to both guests, trusting only their pinned host keys.", "登入兩台客體；僅信任已釘選之主機金鑰。"),
			steps.Text("Checks that src exists on the source guest.", "確認來源客體上 src 存在。"),
		},
		Example: `- id: transfer
  name: {en: "Move the archive to the standby's /root", zh-TW: "將備份檔傳送至備援主機 /root"}
  ssh.transfer: {from: ap02, to: ap03, src: /APBACKUP/ap02bk.tgz, dest: /root/, verify: true}`,
	}
}

func (*backup) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "將客體上之路徑清單打包為帶日期之 .tgz（如 bkap.sh），並刪除過期備份",
		OneOf:       targetOneOf,
		Params: withTarget(map[string]steps.FieldDoc{
			"paths": steps.Required("Absolute paths to archive; tar keeps their names, so the archive restores in place with dest: /.",
				"要備份之絕對路徑；tar 保留其名稱，因此可用 dest: / 原地還原。"),
			"dir": steps.Param("The directory that receives the archive (bkap.sh's BK_PATH).", "存放備份檔之目錄（bkap.sh 之 BK_PATH）。"),
			"name": steps.Param("The archive's file name: {host} is the guest's name in the site, {date} the date in date_format.",
				"備份檔名：{host} 為客體於 site 之名稱，{date} 為依 date_format 格式化之日期。"),
			"date_format":    steps.Param("The {date} format: a strftime subset (%Y %m %d %H %M %S).", "{date} 之格式：strftime 子集（%Y %m %d %H %M %S）。"),
			"retention_days": steps.Param("Before the backup, delete archives in dir matching prune_pattern older than this many days (bkap.sh's BK_DAYS); 0 keeps all.", "備份前刪除 dir 中符合 prune_pattern 且超過此天數之備份檔（bkap.sh 之 BK_DAYS）；0 表示全部保留。"),
			"prune_pattern":  steps.Param("The file-name glob retention applies to.", "保留期限所適用之檔名樣式。"),
			"allow_missing":  steps.Param("Skip paths that do not exist on this guest (bkap.sh's list names directories not every server has).", "略過此客體上不存在之路徑（bkap.sh 之清單含有並非每台伺服器皆有之目錄）。"),
		}),
		Result: map[string]journal.Text{
			"archive": steps.Text("The archive's path on the guest.", "備份檔於客體上之路徑。"),
			"size":    steps.Text("Its size in bytes.", "備份檔大小（位元組）。"),
			"sha256":  steps.Text("Its SHA-256, hex.", "備份檔之 SHA-256（十六進位）。"),
			"files":   steps.Text("How many entries it holds.", "備份檔內之項目數。"),
			"missing": steps.Text("The paths skipped because they do not exist.", "因不存在而略過之路徑。"),
			"pruned":  steps.Text("The old archives deleted.", "已刪除之舊備份檔。"),
		},
		Preflight: []journal.Text{loginPreflight,
			steps.Text("Unless allow_missing, checks that every path exists, as the backup itself tests them.", "除非設定 allow_missing，以與備份相同之方式確認每個路徑皆存在。")},
		Example: `- id: backup
  name: {en: "Back up the AP server (bkap.sh)", zh-TW: "備份 AP 伺服器（bkap.sh）"}
  ssh.backup:
    host: ap02
    dir: /APBACKUP
    retention_days: 7
    paths: [/etc/httpd/, /etc/hosts, /opt/moiland/]`,
	}
}

func (*backupCheck) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "確認客體上之備份檔存在、夠新且非空，並包含所備份之路徑",
		OneOf:       targetOneOf,
		Params: withTarget(map[string]steps.FieldDoc{
			"dir":       steps.Param("The directory that holds the archives (bkap.sh's BK_PATH).", "存放備份檔之目錄（bkap.sh 之 BK_PATH）。"),
			"pattern":   steps.Param("The archives' file-name glob; {hostname} is the guest's short host name, as bkap.sh's HOST_NAME (e.g. {hostname}bk.tar.*.tgz).", "備份檔之檔名樣式；{hostname} 代表客體之短主機名稱，同 bkap.sh 之 HOST_NAME（例如 {hostname}bk.tar.*.tgz）。"),
			"max_age":   steps.Param("How old the newest archive may be, by the guest's clock (a daily backup plus slack by default).", "依客體時鐘，最新備份檔可接受之最大時間（預設為每日備份加上寬限）。"),
			"min_count": steps.Param("How many matching archives must be there: a nightly job that keeps BK_DAYS days leaves at least BK_DAYS.", "至少須有之備份檔數：每晚備份並保留 BK_DAYS 天者，至少應有 BK_DAYS 個。"),
			"contains":  steps.Param("Paths every verified archive must hold, written as the backup names them (/etc/httpd/, /etc/hosts); a directory counts when the archive has it or anything below it.", "每個經驗證之備份檔須包含之路徑，寫法同備份清單（/etc/httpd/、/etc/hosts）；目錄本身或其下任一項目在備份檔中即算包含。"),
			"cron":      steps.Param("Text a scheduled job's command must contain (e.g. bkap.sh), looked for in root's crontab (/var/spool/cron/root or crontabs/root), /etc/crontab and /etc/cron.d, comments left out: archives there today stop coming when nothing schedules them.", "排程工作之指令須包含之文字（例如 bkap.sh），於 root 之 crontab（/var/spool/cron/root 或 crontabs/root）、/etc/crontab 與 /etc/cron.d 中尋找，不含註解：若無排程，今日之備份檔日後即不再產生。"),
			"verify":    steps.Param("Which archives drbook reads through over SFTP: none, newest or all (newest when contains is given, none otherwise). Reading checks the gzip stream to its CRC, so a backup cut short fails, and lists the tar members from their headers, so no member name can pass for another; it transfers each archive once.", "以 SFTP 完整讀取哪些備份檔：none、newest 或 all（有 contains 時預設 newest，否則 none）。讀取時檢查 gzip 至 CRC，中斷之備份即失敗；並由 tar 標頭列出成員，任何成員名稱皆無法冒充他者；每個備份檔傳輸一次。"),
		}),
		Result: map[string]journal.Text{
			"archive":              steps.Text("The newest archive's path.", "最新備份檔之路徑。"),
			"size":                 steps.Text("Its size in bytes.", "檔案大小（位元組）。"),
			"modified":             steps.Text("When it was last written.", "最後寫入時間。"),
			"age_seconds":          steps.Text("Its age in seconds, by the guest's clock.", "依客體時鐘計算之檔案年齡（秒）。"),
			"count":                steps.Text("How many archives match pattern.", "符合樣式之備份檔數。"),
			"hostname":             steps.Text("The guest's short host name, when pattern uses {hostname}.", "pattern 使用 {hostname} 時，客體之短主機名稱。"),
			"schedule":             steps.Text("The crontab line that runs cron, when cron is given.", "有 cron 時，執行該工作之 crontab 行。"),
			"schedule_file":        steps.Text("The file that line is in.", "該行所在之檔案。"),
			"archives":             steps.Text("Every matching archive, newest first.", "所有符合之備份檔，由新至舊。"),
			"archives.path":        steps.Text("The archive's path.", "備份檔之路徑。"),
			"archives.size":        steps.Text("Its size in bytes.", "檔案大小（位元組）。"),
			"archives.modified":    steps.Text("When it was last written.", "最後寫入時間。"),
			"archives.age_seconds": steps.Text("Its age in seconds, by the guest's clock.", "依客體時鐘計算之檔案年齡（秒）。"),
			"archives.verified":    steps.Text("Whether drbook read it through (see verify).", "是否已完整讀取（見 verify）。"),
			"archives.entries":     steps.Text("How many tar members it holds, when verified.", "經驗證時，其 tar 成員數。"),
			"archives.missing":     steps.Text("The contains paths it lacks, when verified.", "經驗證時，其缺少之 contains 路徑。"),
		},
		Example: `- id: backup_ok
  name: {en: "Last night's bkap.sh backup is there and whole", zh-TW: "確認昨晚 bkap.sh 之備份存在且完整"}
  ssh.backup_check:
    host: ap02
    dir: /APBACKUP
    pattern: "{hostname}bk.tar.*.tgz"
    max_age: 26h
    min_count: 7
    cron: bkap.sh
    contains: [/etc/httpd/, /etc/hosts, /opt/moiland/]`,
	}
}

func (*restoreTar) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "於客體上將 .tgz 備份檔解壓至指定位置",
		OneOf:       targetOneOf,
		Params: withTarget(map[string]steps.FieldDoc{
			"archive": steps.Required("The .tgz on the guest.", "客體上之 .tgz 檔。"),
			"dest":    steps.Param("Where to extract, as the drill does with tar -C /.", "解壓位置，如演練以 tar -C / 進行。"),
		}),
		Result: map[string]journal.Text{
			"files": steps.Text("How many entries were extracted.", "解壓之項目數。"),
		},
		Preflight: []journal.Text{loginPreflight, steps.Text("Checks that archive and dest exist on the guest.", "確認客體上 archive 與 dest 存在。")},
		Example: `- id: restore
  name: {en: "Restore the archive at / on the standby", zh-TW: "於備援主機 / 還原備份檔"}
  recovery: true
  ssh.restore_tar: {host: ap03, archive: /root/apfg02bk.tgz, dest: /}`,
	}
}

func (*editFile) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "編輯客體上之檔案（取代文字、設定或插入行、設定 key=value），保留備份並記錄差異",
		OneOf: append([][]string{{"edits.replace", "edits.regex", "edits.set_line", "edits.insert_line", "edits.set_key"}},
			targetOneOf...),
		Params: withTarget(map[string]steps.FieldDoc{
			"path":            steps.Required("The file to edit.", "要編輯之檔案。"),
			"edits":           steps.Required("The changes, applied in order; each gives exactly one of replace, regex, set_line, insert_line or set_key. The file keeps its line endings: edits see CRLF as a plain line break, each line keeps its CRLF or LF, and new lines take the ending most lines have.", "依序套用之變更；每項恰給 replace、regex、set_line、insert_line、set_key 其中之一。檔案保留原有換行：變更時 CRLF 視同一般換行，每行保留其 CRLF 或 LF，新增之行採用多數行之換行。"),
			"backup":          steps.Param("Keep a copy (PATH.drbook-YYYYMMDD-HHMMSS) before writing; the result's backup names it, for a rollback.", "寫入前保留副本（PATH.drbook-YYYYMMDD-HHMMSS）；結果之 backup 為其路徑，可供復原。"),
			"allow_not_found": steps.Param("Turn \"pattern not found\" into a note for every edit instead of failing.", "所有變更找不到目標時僅記錄註記，不使步驟失敗。"),

			"edits.replace":         steps.Param("Replace every occurrence of this literal text with with.", "將此文字之所有出現處取代為 with。"),
			"edits.regex":           steps.Param("Replace every match of this RE2 expression with with ($1 refers to groups).", "將符合此 RE2 運算式之所有處取代為 with（$1 代表群組）。"),
			"edits.with":            steps.Param("The replacement, for replace and regex.", "replace 與 regex 之取代文字。"),
			"edits.set_line":        steps.Param("Replace every line matching match with this line, or append it when none matches.", "將符合 match 之每一行取代為此行；皆不符合時附加於檔尾。"),
			"edits.match":           steps.Param("The regular expression of the lines set_line replaces (required with set_line).", "set_line 所取代之行之正規表示式（使用 set_line 時必填）。"),
			"edits.insert_line":     steps.Param("Insert this line after the first line matching after (or before the first matching before; at the end when neither), unless the file has it.", "於第一個符合 after 之行後（或符合 before 之行前；皆未指定時於檔尾）插入此行，若檔案已有則不插入。"),
			"edits.after":           steps.Param("For insert_line: the regular expression of the line to insert after.", "insert_line 用：插入位置前一行之正規表示式。"),
			"edits.before":          steps.Param("For insert_line: the regular expression of the line to insert before.", "insert_line 用：插入位置後一行之正規表示式。"),
			"edits.set_key":         steps.Param("Set KEY<separator>value, replacing the key's line or appending it (e.g. HOSTNAME in /etc/sysconfig/network).", "設定 KEY<separator>value，取代該鍵之行或附加之（例如 /etc/sysconfig/network 之 HOSTNAME）。"),
			"edits.value":           steps.Param("The value for set_key.", "set_key 之值。"),
			"edits.separator":       steps.Param("What joins set_key and value; = when empty.", "連接 set_key 與 value 之符號；未指定時為 =。"),
			"edits.allow_not_found": steps.Param("Let this edit find nothing without failing the step.", "此項變更找不到目標時不使步驟失敗。"),
		}),
		Result: map[string]journal.Text{
			"changed": steps.Text("Whether the file changed.", "檔案是否有變更。"),
			"backup":  steps.Text("The backup copy's path, when one was kept; restore it with ssh.exec to roll back.", "保留之備份副本路徑；可用 ssh.exec 還原以復原變更。"),
			"applied": steps.Text("How many edits found something to change.", "找到目標並套用之變更數。"),
			"diff":    steps.Text("The unified diff of the change, also kept as evidence: GNU diff -u format (with \\ No newline at end of file where a side lacks one), which GNU patch applies without fuzz.", "變更之 unified diff，亦作為佐證資料保存：GNU diff -u 格式（缺檔尾換行處標示 \\ No newline at end of file），GNU patch 可不經 fuzz 套用。"),
		},
		Preflight: []journal.Text{loginPreflight, steps.Text("Checks that the file exists.", "確認檔案存在。")},
		Example: `- id: httpd_conf
  name: {en: "Point httpd at the standby's address", zh-TW: "修改 httpd 設定之 IP 為備援主機"}
  ssh.edit_file:
    host: ap03
    path: /etc/httpd/conf/httpd.conf
    backup: true
    edits:
      - {replace: "10.0.0.65", with: "10.0.0.66"}
      - {set_line: "ServerName apfg03", match: "^ServerName "}`,
	}
}

func (*mkdir) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "於客體上建立目錄（含上層目錄）",
		OneOf:       targetOneOf,
		Params: withTarget(map[string]steps.FieldDoc{
			"paths": steps.Required("The directories to create, with their parents.", "要建立之目錄（含上層目錄）。"),
			"mode":  steps.Param("The created directories' octal mode; the umask's when empty.", "所建立目錄之八進位權限；未指定時依 umask。"),
		}),
		Result: map[string]journal.Text{
			"created": steps.Text("The directories that did not exist before.", "原本不存在而新建立之目錄。"),
		},
		Example: `- id: mount_points
  name: {en: "mkdir /mnt/G08 /mnt/report", zh-TW: "建立 /mnt/G08、/mnt/report"}
  ssh.mkdir: {host: ap03, paths: [/mnt/G08, /mnt/report]}`,
	}
}

func (*service) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "啟動、停止、重新啟動、重新載入或查詢客體上之服務（systemctl、service 或 /etc/init.d）",
		OneOf:       targetOneOf,
		Params: withTarget(map[string]steps.FieldDoc{
			"name":   steps.Required("The service, e.g. httpd.", "服務名稱，例如 httpd。"),
			"action": steps.Param("What to do; status only reads.", "要執行之動作；status 僅查詢。").Values("start", "stop", "restart", "reload", "status"),
			"manager": steps.Param("Which tool drives the service; auto prefers systemd when it runs, then service (RHEL 5), then /etc/init.d.",
				"控制服務之工具；auto 優先使用執行中之 systemd，其次 service（RHEL 5），再其次 /etc/init.d。").Values("auto", "systemctl", "service", "initd"),
		}),
		Result: map[string]journal.Text{
			"manager":   steps.Text("The tool used.", "使用之工具。"),
			"exit_code": steps.Text("Its exit code.", "其結束代碼。"),
			"active":    steps.Text("status exited 0 (the service runs), or another action succeeded and left it started.", "status 結束代碼為 0（服務執行中），或其他動作成功且服務已啟動。"),
			"output":    steps.Text("What the tool printed.", "工具之輸出。"),
		},
		Preflight: []journal.Text{loginPreflight},
		Example: `- id: httpd_restart
  name: {en: "service httpd restart", zh-TW: "重新啟動 httpd"}
  ssh.service: {host: ap03, name: httpd, action: restart}`,
	}
}

func (*waitReachable) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "等待客體可接受 SSH 登入並執行指令",
		OneOf:       targetOneOf,
		Params: withTarget(map[string]steps.FieldDoc{
			"within":   steps.Param("How long to keep trying.", "持續嘗試之時限。"),
			"interval": steps.Param("The pause between attempts.", "每次嘗試之間隔。"),
		}),
		Result: map[string]journal.Text{
			"attempts":       steps.Text("How many logins were tried.", "嘗試登入之次數。"),
			"waited_seconds": steps.Text("How long until the guest answered.", "至客體回應所花秒數。"),
		},
		Example: `- id: ap02_back
  name: {en: "The AP server accepts SSH again", zh-TW: "AP 伺服器恢復接受 SSH"}
  ssh.wait_reachable: {host: ap02, within: 10m}`,
	}
}
