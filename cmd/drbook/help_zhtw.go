package main

// helpZhTW words the command line's help in Traditional Chinese: every
// command's Short and Long and every flag's usage, keyed by its English
// text (so a changed English text loses its translation, and
// TestEveryCommandAndFlagHasZhTWHelp says which). cobra's own commands
// (help, completion) are here too, in the words cobra gives them for
// drbook. Names stay as they are: commands, flags, values (en, zh-TW, html,
// md…), placeholders (FILE, RUN_DIR…), file names and YAML keys.
var helpZhTW = map[string]string{
	// drbook
	"Run disaster-recovery drills and guided recoveries from YAML runbooks":                                                                                    "依 YAML 演練手冊執行災難復原演練及引導式復原作業",
	"drbook runs disaster-recovery runbooks over vCenter and SSH, times every step,\nmeasures the real downtime and writes drill reports an auditor can sign.": "drbook 透過 vCenter 及 SSH 執行災難復原演練手冊，記錄每個步驟之時間，\n量測實際停機時間，並產出可供稽核人員簽核之演練報告。",
	"language of messages and reports: en or zh-TW":                                                                                                            "訊息及報告之語言：en 或 zh-TW",
	"who runs the drill (recorded in the journal)":                                                                                                             "執行演練之操作人員（記錄於紀錄檔）",
	"Help about any command": "任一指令之說明",
	"Help provides help for any command in the application.\nSimply type drbook help [path to command] for full details.": "help 顯示本程式任一指令之說明。\n輸入 drbook help [指令路徑] 即可查看完整說明。",

	// validate, plan, preflight and the site flags they share with run.
	"Check runbooks (or, with --site alone, a site file) for every problem without running or contacting anything":        "檢查演練手冊（或僅加 --site 時檢查場域檔）之所有問題，不執行任何步驟，亦不連線任何系統",
	"Print the resolved steps and run the read-only preflight; changes nothing":                                           "列出解析後之步驟並執行唯讀之執行前檢查；不變更任何設定",
	"Run the read-only checks `run` makes before its first step, as a table; changes nothing":                             "以表格列出 `run` 於第一個步驟前所做之唯讀檢查；不變更任何設定",
	"only print the steps; contact nothing":                                                                               "僅列出步驟；不連線任何系統",
	"site file (overrides the runbook's site:)":                                                                           "場域檔（優先於演練手冊之 site:）",
	"run against drbook's embedded simulated lab site":                                                                    "以 drbook 內建之模擬環境場域執行",
	"pin unknown SSH host keys and TLS certificates for this run (recorded in the journal)":                               "本次執行固定未知之 SSH 主機金鑰及 TLS 憑證（記錄於紀錄檔）",
	"known_hosts file for SSH host keys":                                                                                  "存放 SSH 主機金鑰之 known_hosts 檔",
	"set a runbook parameter: --var name=value (repeatable)":                                                              "設定演練手冊參數：--var 名稱=值（可重複指定）",
	"with --lab: how many times faster than real time the lab runs (1 = real timings)":                                    "搭配 --lab：模擬環境較實際時間快幾倍（1 = 實際時間）",
	"with --lab: the AP server's nightly bkap.sh job stopped this long ago (e.g. 72h), to rehearse a failed backup drill": "搭配 --lab：AP 伺服器每晚之 bkap.sh 排程已停止多久（如 72h），用以演練備份失效",

	// run and resume.
	"Run a runbook; every step is journaled in a new run directory":                                              "執行演練手冊；每個步驟均記錄於新建執行目錄之紀錄檔",
	"Continue an interrupted or paused run; finished steps are never run again unless named by --from or --only": "續行執行中斷或暫停之演練；已完成之步驟不會再次執行，除非以 --from 或 --only 指定",
	"unattended: grant confirmations (recorded as such); manual steps fail":                                      "無人值守：自動同意各項確認（並如實記錄）；手動步驟判定失敗",
	"ask before every step": "每個步驟執行前均詢問",
	"run again a step that was interrupted although it is not idempotent (you checked its target)":                                    "重新執行中斷之非冪等步驟（您已檢查其對象）",
	"sign the journal's final hash with this ed25519 private key when the run ends":                                                   "演練結束時以此 ed25519 私密金鑰簽署紀錄檔之最終雜湊值",
	"live view with prompts; the default when standard input is a terminal and --yes is not given (--guided=false asks line by line)": "即時畫面並於畫面中詢問；標準輸入為終端機且未加 --yes 時為預設（--guided=false 則逐行詢問）",
	"drill or recovery (lab runs are always lab)":                                                                                     "drill（演練）或 recovery（實際復原）（於模擬環境執行時一律為 lab）",
	"start without the read-only preflight of every step (journaled in run.start)":                                                    "略過各步驟之唯讀執行前檢查直接開始（記錄於 run.start）",
	"where run directories are created":                                                                                               "建立執行目錄之位置",
	"run on the Temporal server at HOST:PORT (durable execution: the run survives this machine)":                                      "於 HOST:PORT 之 Temporal 伺服器上執行（持久執行：本機停止運作時演練仍繼續）",
	"with --temporal: the Temporal namespace":                                                                                         "搭配 --temporal：Temporal 命名空間",
	"with --temporal: the task queue of the site's worker (default drbook-SITE)":                                                      "搭配 --temporal：場域 worker 之工作佇列（預設 drbook-SITE）",
	"resume although the runbook or the site file changed since the run started (both hashes are recorded)":                           "即使演練手冊或場域檔於開始執行後已變更仍續行（新舊雜湊值均記錄）",
	"run again from this step on, even steps journaled as finished (recorded in the journal)":                                         "自此步驟起重新執行，包含紀錄為已完成之步驟（記錄於紀錄檔）",
	"run just these steps (STEP[,STEP]), again if they finished (recorded in the journal)":                                            "僅執行所列步驟（STEP[,STEP]），已完成者亦重新執行（記錄於紀錄檔）",

	// worker and decide.
	"Run a site's steps for runs started with `drbook run --temporal`; the journal is written here":                                         "為以 `drbook run --temporal` 開始之演練執行場域之步驟；紀錄檔寫入本機",
	"pin unknown SSH host keys and TLS certificates (recorded in the journal)":                                                              "固定未知之 SSH 主機金鑰及 TLS 憑證（記錄於紀錄檔）",
	"serve drbook's embedded lab: each run gets its own lab in its run directory":                                                           "提供 drbook 內建模擬環境：每次演練於其執行目錄中各有一個模擬環境",
	"with --lab: how many times faster than real time the lab runs":                                                                         "搭配 --lab：模擬環境較實際時間快幾倍",
	"where this worker keeps its run directories (a standby worker must share it)":                                                          "本 worker 存放執行目錄之位置（備援 worker 須共用）",
	"the site file this worker serves (its secrets are resolved here, never sent)":                                                          "本 worker 服務之場域檔（機敏資料於本機解析，不會傳送）",
	"Answer a confirmation, manual step or interrupted step of a run on Temporal, from any seat; without STEP, show what the run waits for": "於任一座位回覆 Temporal 上演練之確認、手動步驟或執行中斷之步驟；未指定 STEP 時顯示演練等待之事項",
	"abort the run at this confirmation (finally still runs)":                                                                               "於此確認中止演練（收尾步驟仍會執行）",
	"who answers (journaled; default --operator)":                                                                                           "回覆者（記錄於紀錄檔；預設為 --operator）",
	"a manual step's input: --input name=value (repeatable)":                                                                                "手動步驟之輸入值：--input 名稱=值（可重複指定）",
	"skip the step / the manual step is not done / do not run the interrupted step again (the run pauses)":                                  "略過步驟／手動步驟未完成／不重新執行中斷之步驟（演練暫停）",
	"why (journaled with the answer)":                                                                                                       "原因（與回覆一併記錄於紀錄檔）",
	"run the step / the manual step is done / run the interrupted step again (you checked its target)":                                      "執行步驟／手動步驟已完成／重新執行中斷之步驟（您已檢查其對象）",

	// report, verify, history, runs.
	"Render a run's report from its journal alone (html, md, json, junit)": "僅依紀錄檔產生演練報告（html、md、json、junit）",
	"html, md, json or junit":                                                                  "html、md、json 或 junit",
	"write to FILE instead of standard output":                                                 "寫入 FILE，而非標準輸出",
	"first sign the journal's final hash with this ed25519 private key (journal.sig)":          "先以此 ed25519 私密金鑰簽署紀錄檔之最終雜湊值（journal.sig）",
	"Check a run's journal: hash chain, end of run, and the signature when there is one":       "驗證演練之紀錄檔：雜湊鏈、執行結束紀錄，及簽章（如有）",
	"the signer's ed25519 public key, to check the signature against":                          "簽署者之 ed25519 公開金鑰，用以驗證簽章",
	"Compare the measurements of earlier runs (e.g. downtime year over year)":                  "比較歷次演練之量測結果（如逐年之停機時間）",
	"only runs of this runbook":                                                                "僅列此演練手冊之演練",
	"where the runs are":                                                                       "演練執行目錄所在之資料夾",
	"List runs with their state (passed, failed, interrupted, paused), duration, site and RTO": "列出各次演練之狀態（通過、未通過、執行中斷、暫停）、經過時間、場域及 RTO",

	// serve, lab, schema, kinds, explain, new, init, version.
	"Read-only web view of running and finished runs, live (loopback unless given a token)": "以網頁唯讀即時檢視執行中及已結束之演練（未提供存取權杖時僅限本機迴路位址）",
	"serve shows the runs in RUNS_DIR in a browser: a list, and a page per run whose steps, RTO\n" +
		"clock, monitors, evidence and journal follow a running journal live (server-sent events), with\n" +
		"the run's report. It reads journals only and changes nothing. It listens on loopback by\n" +
		"default; on any other address it needs a token (--token-file or DRBOOK_SERVE_TOKEN), given by\n" +
		"the browser once as ?token=… or by a client as Authorization: Bearer ….": "serve 以瀏覽器顯示 RUNS_DIR 中之演練：一份清單，及每次演練一頁，\n" +
		"其步驟、RTO 計時、監控、證據及紀錄檔隨執行中之紀錄檔即時更新（SSE），\n" +
		"並附演練報告。僅讀取紀錄檔，不變更任何設定。預設僅接聽本機迴路位址；\n" +
		"接聽其他位址時須提供存取權杖（--token-file 或 DRBOOK_SERVE_TOKEN），\n" +
		"瀏覽器首次以 ?token=… 提供，用戶端則以 Authorization: Bearer … 提供。",
	"address to listen on; any address off loopback needs a token":                    "接聽位址；本機迴路以外之位址均須存取權杖",
	"file holding the access token (else $DRBOOK_SERVE_TOKEN); required off loopback": "存放存取權杖之檔案（未指定時使用 $DRBOOK_SERVE_TOKEN）；接聽本機迴路以外之位址時必填",
	"RUNS_DIR is a fleet directory (or a folder of them): group the runs by site":     "RUNS_DIR 為演練批次目錄（或其上層資料夾）：依場域分組顯示演練",
	"Run the embedded simulated site until Ctrl-C, for govc and `drbook run --site`":  "執行內建之模擬場域至按下 Ctrl-C 為止，供 govc 及 `drbook run --site` 使用",
	"how many times faster than real time the lab runs (1 = real timings)":            "模擬環境較實際時間快幾倍（1 = 實際時間）",
	"write a site file for the running lab here":                                      "將執行中模擬環境之場域檔寫入此處",
	"Print the JSON Schema of runbooks (or, with --site, site files), for editors":    "輸出演練手冊（或加 --site 時為場域檔）之 JSON Schema，供編輯器使用",
	"Print the JSON Schema (draft-07) of the runbook format with every step kind's\n" +
		"parameters, or of site files with --site. Editors use it for completion and\n" +
		"checking; the same schemas are committed as docs/schema/*.schema.json, and a\n" +
		"`# yaml-language-server: $schema=PATH` first line points VS Code's YAML\n" +
		"extension at one.": "輸出演練手冊格式之 JSON Schema（draft-07），含各步驟類型之參數；\n" +
		"加 --site 時則為場域檔之 JSON Schema。編輯器據以自動完成及檢查；\n" +
		"相同之結構描述已提交為 docs/schema/*.schema.json，檔案第一行寫\n" +
		"`# yaml-language-server: $schema=PATH` 即可讓 VS Code 之 YAML 擴充功能使用。",
	"list the step kinds with one line each instead (see also drbook kinds)":                  "改為每個步驟類型列一行（另見 drbook kinds）",
	"print the schema of site files instead of runbooks":                                      "輸出場域檔之結構描述，而非演練手冊",
	"List the step kinds: what each does, whether it changes state, whether it is idempotent": "列出步驟類型：用途、是否變更系統狀態、是否冪等",
	"Show a step kind's parameters, result fields, preflight checks and an example":           "顯示步驟類型之參數、結果欄位、執行前檢查及範例",
	"Write a commented skeleton runbook that validates, to start a new drill from":            "產生附註解且可通過檢查之演練手冊範本，作為新演練之起點",
	"overwrite the file if it exists":                                                         "檔案已存在時覆寫",
	"file to write (NAME.yaml in the current directory by default)":                           "要寫入之檔案（預設為目前目錄之 NAME.yaml）",
	"Discover a vCenter's inventory (read-only) and write a site file to start from":          "以唯讀方式探查 vCenter 之資產清單，產生場域檔作為起點",
	"init logs in to vCenter, reads one datacenter's clusters, hosts, datastores, port groups and VMs\n" +
		"with the guest IPs VMware Tools reports, and writes a site file: secret references instead of\n" +
		"passwords, the vCenter certificate pinned, a guest entry for every VM that has an IP and is not\n" +
		"Windows, with placeholders (marked CHECK) for what vCenter cannot know: the SSH user and key.": "init 登入 vCenter，讀取一個資料中心之叢集、主機、資料存放區、連接埠群組及 VM，\n" +
		"連同 VMware Tools 回報之客體 IP，並寫入場域檔：以機敏資料參照取代密碼、固定 vCenter 憑證，\n" +
		"並為每台具 IP 且非 Windows 之 VM 建立客體項目；vCenter 無從得知之 SSH 帳號及金鑰\n" +
		"則以預設值（標示 CHECK）代替。",
	"trust a vCenter certificate that is neither pinned nor signed by a trusted CA, and pin it in the written file": "信任未固定且非由受信任憑證機構簽發之 vCenter 憑證，並固定於寫入之檔案",
	"the datacenter to discover (default: the site's, or the only one)":                                             "要探查之資料中心（預設：場域檔所指定者，或唯一之資料中心）",
	"overwrite the output file if it exists":                                                                        "輸出檔已存在時覆寫",
	"discover the embedded simulated lab":                                                                           "探查內建之模擬環境",
	"the site's name (default: the datacenter's, in lower case)":                                                    "場域名稱（預設：資料中心名稱之小寫）",
	"the site file to write":                                                                                        "要寫入之場域檔",
	"the secret reference the written file gives for the vCenter password, e.g. env:VC_PASSWORD (default: the --site file's; env:DRBOOK_VC_PASSWORD for --lab)": "寫入檔案中 vCenter 密碼之機敏資料參照，如 env:VC_PASSWORD（預設：--site 檔案所用者；--lab 時為 env:DRBOOK_VC_PASSWORD）",
	"a site file whose vcenter section says where vCenter is and how to log in (without one: govc's GOVC_* environment)":                                        "以其 vcenter 區段指明 vCenter 位置及登入方式之場域檔（未指定時：使用 govc 之 GOVC_* 環境變數）",
	"how long the discovery may take before init gives up (0: no limit)":                                                                                        "探查作業之時限，逾時 init 即放棄（0：不限）",
	"Print drbook's version": "顯示 drbook 之版本",

	// fleet.
	"Run one runbook at many sites from one seat, and report on the fleet":                               "於同一座位對多處場域執行同一演練手冊，並產生演練批次報告",
	"Run a runbook at every site, each with its own run directory and journal under one fleet directory": "於每處場域執行演練手冊，各場域於同一演練批次目錄下各有其執行目錄及紀錄檔",
	"Run a runbook at every site, each with its own run directory and journal under\n" +
		"one fleet directory (DIR/fleet.json says which sites, which runs, when, by\n" +
		"whom). One site's failure does not stop the others unless --fail-fast.\n\n" +
		"Exit codes: 0 every site passed · 1 a site failed, was aborted or did not\n" +
		"start (its preflight failed) · 2 invalid usage or runbook (nothing ran) ·\n" +
		"130 interrupted (each site's run: drbook resume DIR/SITE/RUN).": "於每處場域執行演練手冊，各場域於同一演練批次目錄下各有其執行目錄及紀錄檔\n" +
		"（DIR/fleet.json 記載場域、各次執行、時間及執行者）。除非加 --fail-fast，\n" +
		"單一場域失敗不影響其他場域。\n\n" +
		"結束代碼：0 所有場域均通過 · 1 有場域未通過、中止或未開始（執行前檢查未通過）·\n" +
		"2 用法或演練手冊無效（未執行任何步驟）·\n" +
		"130 執行中斷（各場域之演練：drbook resume DIR/SITE/RUN）。",
	"pin unknown SSH host keys and TLS certificates for these runs (recorded in each journal)":                                   "本批次執行固定未知之 SSH 主機金鑰及 TLS 憑證（記錄於各紀錄檔）",
	"how many sites run at once (default: all)":                                                                                  "同時執行之場域數（預設：全部）",
	"when a site fails, abort the running sites (their finally steps run) and start no more":                                     "任一場域失敗時，中止執行中之場域（執行其收尾步驟）且不再開始其他場域",
	"the fleet directory to create (default fleets/TIME-RUNBOOK); each site's runs go in DIR/SITE/":                              "要建立之演練批次目錄（預設 fleets/TIME-RUNBOOK）；各場域之執行目錄位於 DIR/SITE/",
	"with --lab-sites, to rehearse a failing site: SITE=VM makes vSphere HA's restart of VM fail at that lab site (repeatable)":  "搭配 --lab-sites，用以演練場域失敗：SITE=VM 使該模擬場域之 vSphere HA 重新啟動 VM 失敗（可重複指定）",
	"run at N embedded lab sites, each on its own loopback block (instead of --site)":                                            "於 N 處內建模擬場域執行，各使用獨立之本機迴路位址區段（取代 --site）",
	"with --lab-sites: how many times faster than real time the labs run":                                                        "搭配 --lab-sites：模擬環境較實際時間快幾倍",
	"a site file to run at (repeatable: one run per site)":                                                                       "要執行之場域檔（可重複指定：每處場域執行一次）",
	"set a runbook parameter at every site: --var name=value (repeatable)":                                                       "於每處場域設定演練手冊參數：--var 名稱=值（可重複指定）",
	"unattended: grant confirmations at every site (recorded as such); manual steps fail":                                        "無人值守：自動同意各場域之確認（並如實記錄）；手動步驟判定失敗",
	"The fleet's report: per site RTO objective vs measured, downtime per service, deviations, verdict, and the fleet's summary": "演練批次報告：各場域之 RTO 目標與實測、各服務之停機時間、偏差事項、結論，及批次摘要",
	"html, md or json": "html、md 或 json",
	"write the report to this file instead of standard output":                                                  "將報告寫入此檔案，而非標準輸出",
	"Drills across sites and years: every run found under the folder (fleets, runs folders), per site and year": "跨場域及年度之演練：資料夾下（演練批次、執行目錄資料夾）所有演練，依場域及年度列出",
	"text or json": "text 或 json",

	// cobra's completion command, as cobra words it for drbook.
	"Generate the autocompletion script for the specified shell": "產生指定殼層之自動完成指令碼",
	"Generate the autocompletion script for drbook for the specified shell.\nSee each sub-command's help for details on how to use the generated script.\n": "產生 drbook 於指定殼層之自動完成指令碼。\n產生之指令碼用法請見各子指令之說明。\n",
	"disable completion descriptions":                   "不顯示自動完成項目之說明",
	"Generate the autocompletion script for bash":       "產生 bash 之自動完成指令碼",
	"Generate the autocompletion script for zsh":        "產生 zsh 之自動完成指令碼",
	"Generate the autocompletion script for fish":       "產生 fish 之自動完成指令碼",
	"Generate the autocompletion script for powershell": "產生 powershell 之自動完成指令碼",
	"Generate the autocompletion script for the bash shell.\n\nThis script depends on the 'bash-completion' package.\nIf it is not installed already, you can install it via your OS's package manager.\n\nTo load completions in your current shell session:\n\n\tsource <(drbook completion bash)\n\nTo load completions for every new session, execute once:\n\n#### Linux:\n\n\tdrbook completion bash > /etc/bash_completion.d/drbook\n\n#### macOS:\n\n\tdrbook completion bash > $(brew --prefix)/etc/bash_completion.d/drbook\n\nYou will need to start a new shell for this setup to take effect.\n":                                            "產生 bash 殼層之自動完成指令碼。\n\n本指令碼需要 bash-completion 套件；\n如尚未安裝，請以作業系統之套件管理程式安裝。\n\n於目前之殼層工作階段載入自動完成：\n\n\tsource <(drbook completion bash)\n\n每個新工作階段均載入自動完成，請執行一次：\n\n#### Linux：\n\n\tdrbook completion bash > /etc/bash_completion.d/drbook\n\n#### macOS：\n\n\tdrbook completion bash > $(brew --prefix)/etc/bash_completion.d/drbook\n\n設定須於開啟新殼層後生效。\n",
	"Generate the autocompletion script for the zsh shell.\n\nIf shell completion is not already enabled in your environment you will need\nto enable it.  You can execute the following once:\n\n\techo \"autoload -U compinit; compinit\" >> ~/.zshrc\n\nTo load completions in your current shell session:\n\n\tsource <(drbook completion zsh)\n\nTo load completions for every new session, execute once:\n\n#### Linux:\n\n\tdrbook completion zsh > \"${fpath[1]}/_drbook\"\n\n#### macOS:\n\n\tdrbook completion zsh > $(brew --prefix)/share/zsh/site-functions/_drbook\n\nYou will need to start a new shell for this setup to take effect.\n": "產生 zsh 殼層之自動完成指令碼。\n\n如您的環境尚未啟用殼層自動完成，須先啟用，請執行一次：\n\n\techo \"autoload -U compinit; compinit\" >> ~/.zshrc\n\n於目前之殼層工作階段載入自動完成：\n\n\tsource <(drbook completion zsh)\n\n每個新工作階段均載入自動完成，請執行一次：\n\n#### Linux：\n\n\tdrbook completion zsh > \"${fpath[1]}/_drbook\"\n\n#### macOS：\n\n\tdrbook completion zsh > $(brew --prefix)/share/zsh/site-functions/_drbook\n\n設定須於開啟新殼層後生效。\n",
	"Generate the autocompletion script for the fish shell.\n\nTo load completions in your current shell session:\n\n\tdrbook completion fish | source\n\nTo load completions for every new session, execute once:\n\n\tdrbook completion fish > ~/.config/fish/completions/drbook.fish\n\nYou will need to start a new shell for this setup to take effect.\n":                                                                                                                                                                                                                                                                                          "產生 fish 殼層之自動完成指令碼。\n\n於目前之殼層工作階段載入自動完成：\n\n\tdrbook completion fish | source\n\n每個新工作階段均載入自動完成，請執行一次：\n\n\tdrbook completion fish > ~/.config/fish/completions/drbook.fish\n\n設定須於開啟新殼層後生效。\n",
	"Generate the autocompletion script for powershell.\n\nTo load completions in your current shell session:\n\n\tdrbook completion powershell | Out-String | Invoke-Expression\n\nTo load completions for every new session, add the output of the above command\nto your powershell profile.\n":                                                                                                                                                                                                                                                                                                                                                       "產生 powershell 之自動完成指令碼。\n\n於目前之殼層工作階段載入自動完成：\n\n\tdrbook completion powershell | Out-String | Invoke-Expression\n\n每個新工作階段均載入自動完成，請將上列指令之輸出\n加入您的 powershell 設定檔（$PROFILE）。\n",
}
