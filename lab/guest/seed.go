package guest

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// BKAPScript is the AP server's backup script from the reference site's
// drill plan (DOMAIN.md, drill 2), as installed at /root/bkap/bkap.sh.
// It runs under the guest's shell unchanged: FTPMODE or NOFTPMODE as its
// only argument; it tars the application and configuration paths into
// $BK_PATH/${HOST_NAME}bk.tar.MMDD.tgz and logs through tee -a.
const BKAPScript = `#!/bin/bash
# bkap.sh - AP server backup (land registration WEB AP)
export HOST_NAME=` + "`hostname | cut -f1 -d \".\"`" + `
export WEEK=` + "`date +%w`" + `
export LOGDATE=` + "`date +%m%d`" + `
export JBOSSLOG_PATH=/opt/jboss/bin
export SERVERLOG_PATH=/opt/jboss/server/default/log
export BK_PATH=/APBACKUP
export LOG_PATH=${BK_PATH}/LOG
export LOG_FILE=bkaplog.${HOST_NAME}.${LOGDATE}
export DEL_DAYS=60
export BK_DAYS=7
export TAR_NAME=${HOST_NAME}bk.tar.${LOGDATE}
if [ $# -ne 1 ]
then
    echo "Please SO (FTPMODE/NOFTPMODE)"
    exit 1
fi
export FTPANS=${1}
if [ ! -d ${LOG_PATH} ]
then
    mkdir -p ${LOG_PATH}
fi
echo "=== Backup APSERVER ${TAR_NAME} ` + "`date +%Y%m%d` `date +%H:%M:%S`" + ` ===" | tee -a ${LOG_PATH}/${LOG_FILE}
echo "=== Begin Backup Delete ${BK_DAYS} DAYS BACKUP FILE ===" | tee -a ${LOG_PATH}/${LOG_FILE}
find ${BK_PATH} -name *.tgz -mtime +${BK_DAYS} | tee -a ${LOG_PATH}/${LOG_FILE}
find ${BK_PATH} -name *.tgz -mtime +${BK_DAYS} -exec rm {} \; | tee -a ${LOG_PATH}/${LOG_FILE}
echo "=== End Backup Delete ${BK_DAYS} DAYS BACKUP FILE ===" | tee -a ${LOG_PATH}/${LOG_FILE}
echo "=== Begin backup ${HOST_NAME} ` + "`date +%Y%m%d` `date +%H:%M:%S`" + ` ===" | tee -a ${LOG_PATH}/${LOG_FILE}
echo "===Begin TAR File ==="
tar -czvf ${BK_PATH}/${TAR_NAME}.tgz /root/ /home/jboss/ /home/oracle /opt/jdk1.5.0_19/ /opt/jboss/ /opt/moiland/ /opt/oracle/ /var/spool/cron/ /fop /land/ /work/ /LandDeploy.ini /etc/httpd/ /etc/samba/ /etc/snmp/ /etc/security/ /etc/rc.d/ /etc/fstab /etc/hosts /etc/rc.local /etc/profile /etc/oraInst.loc /etc/inittab /etc/sysctl.conf /etc/services /etc/passwd /etc/group /etc/shadow | tee -a ${LOG_PATH}/${LOG_FILE}
echo "=== End backup ${HOST_NAME} ` + "`date +%Y%m%d` `date +%H:%M:%S`" + ` ===" | tee -a ${LOG_PATH}/${LOG_FILE}
if [ "${FTPANS}" = "FTPMODE" ]
then
    echo "FTPMODE: transfer ${BK_PATH}/${TAR_NAME}.tgz to the standby server with sftp" | tee -a ${LOG_PATH}/${LOG_FILE}
fi
exit 0
`

// BKAPPaths are the paths bkap.sh archives, in its order.
var BKAPPaths = []string{"/root/", "/home/jboss/", "/home/oracle", "/opt/jdk1.5.0_19/", "/opt/jboss/",
	"/opt/moiland/", "/opt/oracle/", "/var/spool/cron/", "/fop", "/land/", "/work/", "/LandDeploy.ini",
	"/etc/httpd/", "/etc/samba/", "/etc/snmp/", "/etc/security/", "/etc/rc.d/", "/etc/fstab", "/etc/hosts",
	"/etc/rc.local", "/etc/profile", "/etc/oraInst.loc", "/etc/inittab", "/etc/sysctl.conf", "/etc/services",
	"/etc/passwd", "/etc/group", "/etc/shadow"}

// seedFile is one file of a seeded tree.
type seedFile struct {
	path    string
	mode    os.FileMode
	content string
	link    string // symlink target, when a symlink
}

// seedTime is when the seeded files were last changed: a date in the
// report's year, so ls -l and tar -tv look like the real machine's.
var seedTime = time.Date(2014, 9, 18, 17, 33, 0, 0, time.FixedZone("CST", 8*3600))

// SeedEmptyServer fills root with a freshly installed RHEL 5.8 (the
// standby server of drill 2): the base system, httpd installed but not
// configured for the application, and no application files.
func SeedEmptyServer(root, hostname, ip string) error {
	return writeSeed(root, baseSystem(hostname, ip, 80, false))
}

// SeedAPServer is SeedAPServerWith for a nightly job that last ran
// LastNightlyRun(time.Now()).
func SeedAPServer(root, hostname, ip string, httpPort int) error {
	return SeedAPServerWith(root, hostname, ip, httpPort, LastNightlyRun(time.Now()))
}

// BackupNights is how many nightly archives bkap.sh leaves in /APBACKUP:
// its retention (find -mtime +BK_DAYS, BK_DAYS=7) runs before tar, when
// the archive of 8 nights ago is 8 days less the time tar took old, which
// find rounds down to 7: so it survives until the next night, and nine
// archives are there after each run.
const BackupNights = 9

// tarTook is how long the AP server's nightly tar runs: each archive's
// modification time is its run's start plus this.
const tarTook = 1*time.Minute + 42*time.Second

// LastNightlyRun is when the seeded AP server's nightly bkap.sh job last
// started, for a lab started at now: 4 h 30 min before, on the minute.
// The job's crontab is seeded to say that time of day, so the archives,
// their logs and the crontab agree; and a lab's tests run far from the
// moment the next night's run is due or the oldest archive turns 8 days
// old (find -mtime +7 would then delete one more), however long they take.
func LastNightlyRun(now time.Time) time.Time {
	return now.Add(-4*time.Hour - 30*time.Minute).Truncate(time.Minute)
}

// SeedAPServerWith fills root with the reference site's RHEL 5.8 web AP
// server (JBoss + Oracle client + httpd serving the land-registration AP):
// every path bkap.sh archives, /root/bkap/bkap.sh run nightly by root's
// crontab at lastRun's time of day, /APBACKUP holding what that job leaves
// after its run at lastRun (BackupNights dated archives of bkap.sh's paths
// and their logs), and httpd enabled at boot, listening on ip:httpPort. A
// lastRun days in the past is a job that stopped then.
func SeedAPServerWith(root, hostname, ip string, httpPort int, lastRun time.Time) error {
	files := baseSystem(hostname, ip, httpPort, true)
	short, _, _ := strings.Cut(hostname, ".")
	files = append(files,
		seedFile{path: "/root/bkap/bkap.sh", mode: 0o644, content: BKAPScript},
		seedFile{path: "/root/bkap/bkap.ini", mode: 0o644, content: "[BACKUP]\nBK_PATH=/APBACKUP\nBK_DAYS=7\nDEL_DAYS=60\n[FTP]\nFTP_HOST=\nFTP_USER=root\n"},
		seedFile{path: "/root/anaconda-ks.cfg", mode: 0o600, content: "# Kickstart file automatically generated by anaconda.\ninstall\ncdrom\nlang zh_TW.UTF-8\nkeyboard us\n"},
		seedFile{path: "/root/install.log", mode: 0o644, content: "Installing httpd - 2.2.3-63.el5.x86_64\nInstalling samba - 3.0.33-3.37.el5.x86_64\n"},
		seedFile{path: "/root/.bash_profile", mode: 0o644, content: "# .bash_profile\nPATH=$PATH:$HOME/bin\nexport PATH\n"},
		seedFile{path: "/home/jboss/.bash_profile", mode: 0o644, content: "export JAVA_HOME=/opt/jdk1.5.0_19\nexport JBOSS_HOME=/opt/jboss\nexport PATH=$JAVA_HOME/bin:$PATH\n"},
		seedFile{path: "/home/oracle/.bash_profile", mode: 0o644, content: "export ORACLE_BASE=/opt/oracle\nexport ORACLE_HOME=$ORACLE_BASE/product/10.2.0/client_1\nexport NLS_LANG=\"TRADITIONAL CHINESE_TAIWAN.ZHT16MSWIN950\"\n"},
		seedFile{path: "/opt/jdk1.5.0_19/README.txt", mode: 0o644, content: "Java(TM) 2 Platform Standard Edition Development Kit 5.0 Update 19\n"},
		seedFile{path: "/opt/jdk1.5.0_19/bin/java", mode: 0o755, content: "\x7fELF\x02\x01\x01\x00 simulated java launcher\n"},
		seedFile{path: "/opt/jboss/bin/run.sh", mode: 0o755, content: "#!/bin/sh\n# JBoss Bootstrap Script\necho \"JBoss 4.2.3.GA\"\n"},
		seedFile{path: "/opt/jboss/server/default/conf/jboss-service.xml", mode: 0o644, content: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<server>\n  <mbean code=\"org.jboss.web.tomcat.service.JBossWeb\" name=\"jboss.web:service=WebServer\"/>\n</server>\n"},
		seedFile{path: "/opt/jboss/server/default/deploy/moiland.war/WEB-INF/web.xml", mode: 0o644, content: "<web-app><display-name>MOI Land Registration WEB AP</display-name></web-app>\n"},
		seedFile{path: "/opt/jboss/server/default/log/server.log", mode: 0o644, content: "2014-10-25 23:50:01,120 INFO  [Server] JBoss (MX MicroKernel) [4.2.3.GA] Started in 41s:220ms\n"},
		seedFile{path: "/opt/moiland/conf/land.properties", mode: 0o644, content: "db.url=jdbc:oracle:thin:@10.1.1.20:1521:LANDDB\ndb.user=landap\nreport.dir=/mnt/report\nimage.dir=/mnt/G08\n"},
		seedFile{path: "/opt/moiland/web/index.html", mode: 0o644, content: fmt.Sprintf("<html><head><meta charset=\"utf-8\"><title>內政部地政 WEB 版 AP 系統</title></head>\n<body><h1>Land Registration WEB AP (內政部地政 WEB 版 AP 系統)</h1>\n<p>Application home: /opt/moiland on %s</p></body></html>\n", short)},
		seedFile{path: "/opt/moiland/lib/moiland-core.jar", mode: 0o644, content: "PK\x03\x04 simulated jar\n"},
		seedFile{path: "/opt/oracle/product/10.2.0/client_1/network/admin/tnsnames.ora", mode: 0o644, content: "LANDDB =\n  (DESCRIPTION = (ADDRESS = (PROTOCOL = TCP)(HOST = 10.1.1.20)(PORT = 1521))\n    (CONNECT_DATA = (SERVICE_NAME = LANDDB)))\n"},
		seedFile{path: "/var/spool/cron/root", mode: 0o600, content: fmt.Sprintf("%d %d * * * /root/bkap/bkap.sh NOFTPMODE > /dev/null 2>&1\n", lastRun.Minute(), lastRun.Hour())},
		seedFile{path: "/fop/conf/fop.xconf", mode: 0o644, content: "<fop version=\"1.0\"><renderers><renderer mime=\"application/pdf\"/></renderers></fop>\n"},
		seedFile{path: "/land/data/README", mode: 0o644, content: "Land registration exchange files (daily).\n"},
		seedFile{path: "/work/tmp/.keep", mode: 0o644, content: ""},
		seedFile{path: "/LandDeploy.ini", mode: 0o644, content: fmt.Sprintf("[Deploy]\nServer=%s\nIP=%s\nAppHome=/opt/moiland\nJBossHome=/opt/jboss\n", short, ip)},
		seedFile{path: "/etc/oraInst.loc", mode: 0o644, content: "inventory_loc=/opt/oracle/oraInventory\ninst_group=oinstall\n"},
		seedFile{path: "/etc/rc.d/init.d/jboss", mode: 0o755, content: initScript("jboss", "JBoss application server", 98, 2)},
		seedFile{path: "/etc/rc.d/rc3.d/S98jboss", link: "../init.d/jboss"},
		seedFile{path: "/etc/rc.d/rc5.d/S98jboss", link: "../init.d/jboss"},
		seedFile{path: "/APBACKUP/LOG/.keep", mode: 0o644, content: ""},
	)
	if err := writeSeed(root, files); err != nil {
		return err
	}
	for _, d := range []string{"/APBACKUP/LOG", "/work/tmp"} {
		os.Remove(filepath.Join(root, d, ".keep"))
	}
	// The nightly job's runs up to lastRun, oldest first.
	for k := BackupNights - 1; k >= 0; k-- {
		if err := seedBackup(root, short, lastRun.AddDate(0, 0, -k)); err != nil {
			return err
		}
	}
	return nil
}

// seedBackup writes what bkap.sh NOFTPMODE leaves behind after its run at
// run: the gzip'd tar of BKAPPaths as /APBACKUP/${HOST_NAME}bk.tar.MMDD.tgz
// (root's umask 022: 0644), written tarTook later, and its log, which
// names the archive of nine nights before that its retention deleted.
func seedBackup(root, short string, run time.Time) error {
	mmdd := run.Format("0102")
	done := run.Add(tarTook)
	archive := filepath.Join(root, "APBACKUP", short+"bk.tar."+mmdd+".tgz")
	var listing strings.Builder
	if err := writeTarGz(root, archive, BKAPPaths, &listing); err != nil {
		return fmt.Errorf("seed %s: %w", archive, err)
	}
	logFile := filepath.Join(root, "APBACKUP", "LOG", "bkaplog."+short+"."+mmdd)
	stamp := func(t time.Time) string { return t.Format("20060102") + " " + t.Format("15:04:05") }
	deleted := "/APBACKUP/" + short + "bk.tar." + run.AddDate(0, 0, -BackupNights).Format("0102") + ".tgz\n"
	log := fmt.Sprintf("=== Backup APSERVER %sbk.tar.%s %s ===\n=== Begin Backup Delete 7 DAYS BACKUP FILE ===\n%s=== End Backup Delete 7 DAYS BACKUP FILE ===\n=== Begin backup %s %s ===\n%s=== End backup %s %s ===\n",
		short, mmdd, stamp(run), deleted, short, stamp(run), listing.String(), short, stamp(done))
	if err := os.WriteFile(logFile, []byte(log), 0o644); err != nil {
		return fmt.Errorf("seed %s: %w", logFile, err)
	}
	for _, f := range []string{archive, logFile} {
		if err := os.Chmod(f, 0o644); err != nil {
			return err
		}
		if err := os.Chtimes(f, done, done); err != nil {
			return err
		}
	}
	return nil
}

// writeTarGz archives paths (guest paths, under root on the real disk) the
// way GNU tar -czv does: leading "/" removed, directories recursed with a
// trailing "/", symlinks stored as links, owners kept; each member's name
// is listed in listing as -v prints it.
func writeTarGz(root, archive string, paths []string, listing io.Writer) error {
	out, err := os.OpenFile(archive, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(out)
	tw := tar.NewWriter(zw)
	for _, p := range paths {
		base := filepath.Join(root, filepath.FromSlash(strings.TrimSuffix(p, "/")))
		err := filepath.WalkDir(base, func(full string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			link := ""
			if fi.Mode()&fs.ModeSymlink != 0 {
				if link, err = os.Readlink(full); err != nil {
					return err
				}
			}
			h, err := tar.FileInfoHeader(fi, link)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, full)
			h.Name = filepath.ToSlash(rel)
			if fi.IsDir() {
				h.Name += "/"
			}
			h.Format = tar.FormatGNU
			h.Uname, h.Gname = "", ""
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			fmt.Fprintln(listing, h.Name)
			if fi.Mode().IsRegular() {
				f, err := os.Open(full)
				if err != nil {
					return err
				}
				_, err = io.Copy(tw, f)
				f.Close()
				return err
			}
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			out.Close()
			return err
		}
	}
	if err := tw.Close(); err != nil {
		out.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// baseSystem is what every seeded guest has.
func baseSystem(hostname, ip string, httpPort int, apServer bool) []seedFile {
	short, _, _ := strings.Cut(hostname, ".")
	listen := fmt.Sprintf("%s:%d", ip, httpPort)
	index := "<html><head><title>Test Page for the Apache HTTP Server on Red Hat Enterprise Linux</title></head>\n<body><h1>Red Hat Enterprise Linux Test Page</h1></body></html>\n"
	if apServer {
		index = fmt.Sprintf("<html><head><meta charset=\"utf-8\"><title>內政部地政 WEB 版 AP 系統</title></head>\n<body><h1>Land Registration WEB AP (內政部地政 WEB 版 AP 系統)</h1>\n<p>Server: %s</p></body></html>\n", short)
	}
	files := []seedFile{
		{path: sftpServerPath, mode: 0o755, content: "\x7fELF\x02\x01\x01\x00 simulated sftp-server (openssh-server-4.3p2)\n"},
		{path: "/etc/redhat-release", mode: 0o644, content: "Red Hat Enterprise Linux Server release 5.8 (Tikanga)\n"},
		{path: "/etc/hosts", mode: 0o644, content: fmt.Sprintf("# Do not remove the following line, or various programs\n# that require network functionality will fail.\n127.0.0.1\t\tlocalhost.localdomain localhost\n::1\t\tlocalhost6.localdomain6 localhost6\n%s\t%s %s\n", ip, hostname, short)},
		{path: "/etc/sysconfig/network", mode: 0o644, content: fmt.Sprintf("NETWORKING=yes\nNETWORKING_IPV6=no\nHOSTNAME=%s\n", hostname)},
		{path: "/etc/sysconfig/network-scripts/ifcfg-eth0", mode: 0o644, content: fmt.Sprintf("DEVICE=eth0\nBOOTPROTO=static\nIPADDR=%s\nNETMASK=255.255.255.0\nONBOOT=yes\n", ip)},
		{path: "/etc/httpd/conf/httpd.conf", mode: 0o644, content: httpdConfText(listen, hostname, apServer)},
		{path: "/etc/httpd/conf.d/README", mode: 0o644, content: "This directory holds Apache 2.0 module-specific configuration files;\nany files in this directory which have the \".conf\" extension will be\nprocessed as Apache configuration files.\n"},
		{path: "/etc/httpd/logs", link: "../../var/log/httpd"},
		{path: "/var/log/httpd/access_log", mode: 0o644, content: ""},
		{path: "/var/www/html/index.html", mode: 0o644, content: index},
		{path: "/etc/samba/smb.conf", mode: 0o644, content: fmt.Sprintf("[global]\n\tworkgroup = LANDOFFICE\n\tnetbios name = %s\n\tsecurity = user\n[report]\n\tpath = /mnt/report\n\twritable = yes\n", strings.ToUpper(short))},
		{path: "/etc/samba/smbusers", mode: 0o644, content: "# Unix_name = SMB_name1 SMB_name2 ...\nroot = administrator admin\n"},
		{path: "/etc/snmp/snmpd.conf", mode: 0o600, content: "com2sec notConfigUser  default       public\ngroup   notConfigGroup v2c           notConfigUser\nsyslocation Land Office machine room\nsyscontact root@localhost\n"},
		{path: "/etc/security/limits.conf", mode: 0o644, content: "# /etc/security/limits.conf\noracle soft nproc 2047\noracle hard nproc 16384\noracle soft nofile 1024\noracle hard nofile 65536\n"},
		{path: "/etc/security/access.conf", mode: 0o644, content: "# Login access control table.\n"},
		{path: "/etc/rc.d/init.d/functions", mode: 0o644, content: "# -*-Shell-script-*-\n# functions\tThis file contains functions to be used by most or all\n#\t\tshell scripts in the /etc/init.d directory.\n"},
		{path: "/etc/rc.d/init.d/httpd", mode: 0o755, content: initScript("httpd", "Apache is a World Wide Web server.", 85, 15)},
		{path: "/etc/rc.d/init.d/sshd", mode: 0o755, content: initScript("sshd", "OpenSSH server daemon", 55, 25)},
		{path: "/etc/rc.d/init.d/crond", mode: 0o755, content: initScript("crond", "cron is a standard UNIX program that runs user-specified programs", 90, 60)},
		{path: "/etc/rc.d/init.d/network", mode: 0o755, content: initScript("network", "Activates/Deactivates all network interfaces", 10, 90)},
		{path: "/etc/rc.d/init.d/smb", mode: 0o755, content: initScript("smb", "Starts and stops the Samba smbd and nmbd daemons", 91, 35)},
		{path: "/etc/rc.d/init.d/snmpd", mode: 0o755, content: initScript("snmpd", "Simple Network Management Protocol (SNMP) Daemon", 50, 50)},
		{path: "/etc/rc.d/rc.local", mode: 0o755, content: "#!/bin/sh\n#\n# This script will be executed *after* all the other init scripts.\ntouch /var/lock/subsys/local\n"},
		{path: "/etc/rc.d/rc.sysinit", mode: 0o755, content: "#!/bin/bash\n#\n# /etc/rc.d/rc.sysinit - run once at boot time\n"},
		{path: "/etc/rc.local", link: "rc.d/rc.local"},
		{path: "/etc/init.d", link: "rc.d/init.d"},
		{path: "/etc/fstab", mode: 0o644, content: "/dev/VolGroup00/LogVol00 /                       ext3    defaults        1 1\nLABEL=/boot             /boot                   ext3    defaults        1 2\ntmpfs                   /dev/shm                tmpfs   defaults        0 0\ndevpts                  /dev/pts                devpts  gid=5,mode=620  0 0\nsysfs                   /sys                    sysfs   defaults        0 0\nproc                    /proc                   proc    defaults        0 0\n/dev/VolGroup00/LogVol01 swap                    swap    defaults        0 0\n"},
		{path: "/etc/profile", mode: 0o644, content: "# /etc/profile\n\n# System wide environment and startup programs, for login setup\npathmunge () {\n\tif ! echo $PATH | /bin/egrep -q \"(^|:)$1($|:)\" ; then\n\t   PATH=$1:$PATH\n\tfi\n}\nexport PATH USER LOGNAME MAIL HOSTNAME HISTSIZE INPUTRC\n"},
		{path: "/etc/inittab", mode: 0o644, content: "#\n# inittab       This file describes how the INIT process should set up\n#               the system in a certain run-level.\n#\nid:3:initdefault:\nsi::sysinit:/etc/rc.d/rc.sysinit\nl3:3:wait:/etc/rc.d/rc 3\n"},
		{path: "/etc/sysctl.conf", mode: 0o644, content: "# Kernel sysctl configuration file for Red Hat Linux\nnet.ipv4.ip_forward = 0\nkernel.shmmax = 4294967295\nkernel.shmall = 268435456\nkernel.sem = 250 32000 100 128\nfs.file-max = 65536\n"},
		{path: "/etc/services", mode: 0o644, content: "# /etc/services:\n# service-name  port/protocol  [aliases ...]   [# comment]\nftp\t\t21/tcp\nssh\t\t22/tcp\t\t\t\t# SSH Remote Login Protocol\ntelnet\t\t23/tcp\nsmtp\t\t25/tcp\t\tmail\nhttp\t\t80/tcp\t\twww www-http\t# WorldWideWeb HTTP\nsnmp\t\t161/udp\nhttps\t\t443/tcp\t\t\t\t# MCom\nncube-lm\t1521/tcp\t\t\t# nCube License Manager\n"},
		{path: "/etc/passwd", mode: 0o644, content: "root:x:0:0:root:/root:/bin/bash\nbin:x:1:1:bin:/bin:/sbin/nologin\ndaemon:x:2:2:daemon:/sbin:/sbin/nologin\nnobody:x:99:99:Nobody:/:/sbin/nologin\nsshd:x:74:74:Privilege-separated SSH:/var/empty/sshd:/sbin/nologin\napache:x:48:48:Apache:/var/www:/sbin/nologin\njboss:x:500:500::/home/jboss:/bin/bash\noracle:x:501:501::/home/oracle:/bin/bash\n"},
		{path: "/etc/group", mode: 0o644, content: "root:x:0:root\nbin:x:1:root,bin,daemon\ndaemon:x:2:root,bin,daemon\nwheel:x:10:root\nnobody:x:99:\nsshd:x:74:\napache:x:48:\njboss:x:500:\noracle:x:501:\noinstall:x:502:oracle\n"},
		{path: "/etc/shadow", mode: 0o400, content: "root:$1$simulab$NotARealHash0000000000:15966:0:99999:7:::\nbin:*:15966:0:99999:7:::\ndaemon:*:15966:0:99999:7:::\nnobody:*:15966:0:99999:7:::\nsshd:!!:15966::::::\napache:!!:15966::::::\njboss:!!:15966:0:99999:7:::\noracle:!!:15966:0:99999:7:::\n"},
		{path: "/root/.bashrc", mode: 0o644, content: "# .bashrc\nalias rm='rm -i'\nalias cp='cp -i'\nalias mv='mv -i'\n"},
		{path: "/home/jboss/.bashrc", mode: 0o644, content: "# .bashrc\n"},
		{path: "/home/oracle/.bashrc", mode: 0o644, content: "# .bashrc\n"},
		{path: "/var/spool/cron/.keep", mode: 0o644, content: ""},
		{path: "/tmp/.keep", mode: 0o644, content: ""},
	}
	// Runlevel links: sshd, crond and network everywhere; httpd only on the
	// AP server (on the standby it is installed but off, as after a fresh
	// install).
	for _, lvl := range []int{0, 1, 2, 3, 4, 5, 6} {
		for _, svc := range []struct {
			name        string
			start, stop int
			on          bool
		}{{"network", 10, 90, true}, {"sshd", 55, 25, true}, {"crond", 90, 60, true}, {"httpd", 85, 15, apServer}, {"smb", 91, 35, false}, {"snmpd", 50, 50, false}} {
			link := fmt.Sprintf("/etc/rc.d/rc%d.d/K%02d%s", lvl, svc.stop, svc.name)
			if svc.on && lvl >= 2 && lvl <= 5 {
				link = fmt.Sprintf("/etc/rc.d/rc%d.d/S%02d%s", lvl, svc.start, svc.name)
			}
			files = append(files, seedFile{path: link, link: "../init.d/" + svc.name})
		}
	}
	return files
}

func httpdConfText(listen, serverName string, apServer bool) string {
	extra := ""
	if apServer {
		extra = "\n# Land registration WEB AP: its pages live with the application\n# (/opt/moiland is in bkap.sh's backup, /var/www/html is not).\nAlias /moiland \"/opt/moiland/web\"\n"
	}
	return `#
# This is the main Apache server configuration file.  It contains the
# configuration directives that give the server its instructions.
#
ServerTokens OS
ServerRoot "/etc/httpd"
PidFile run/httpd.pid
Timeout 120
KeepAlive Off
MaxKeepAliveRequests 100
KeepAliveTimeout 15
#
# Listen: Allows you to bind Apache to specific IP addresses and/or
# ports, in addition to the default. See also the <VirtualHost>
# directive.
#
Listen ` + listen + `
LoadModule auth_basic_module modules/mod_auth_basic.so
LoadModule alias_module modules/mod_alias.so
Include conf.d/*.conf
User apache
Group apache
ServerAdmin root@localhost
ServerName ` + serverName + `
UseCanonicalName Off
DocumentRoot "/var/www/html"
<Directory "/var/www/html">
    Options Indexes FollowSymLinks
    AllowOverride None
    Order allow,deny
    Allow from all
</Directory>
DirectoryIndex index.html index.html.var
ErrorLog logs/error_log
LogLevel warn
CustomLog logs/access_log combined
AddDefaultCharset UTF-8
` + extra
}

// initScript is a RHEL 5 style SysV init script; the guest's service
// command recognises it by its place in /etc/rc.d/init.d.
func initScript(name, description string, start, stop int) string {
	return fmt.Sprintf(`#!/bin/bash
#
# %[1]s        Startup script for %[1]s
#
# chkconfig: - %[3]d %[4]d
# description: %[2]s
#
# Source function library.
. /etc/rc.d/init.d/functions

RETVAL=0
case "$1" in
  start|stop|restart|condrestart|reload|status)
	;;
  *)
	echo $"Usage: %[1]s {start|stop|restart|condrestart|reload|status}"
	exit 1
esac
exit $RETVAL
`, name, description, start, stop)
}

// writeSeed creates files under root (directories 0755, times set to
// seedTime) without touching anything outside it.
func writeSeed(root string, files []seedFile) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	sb, err := openSandbox(root)
	if err != nil {
		return err
	}
	defer sb.close()
	for _, d := range []string{"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/mnt", "/var/lock/subsys", "/var/run", "/var/empty/sshd"} {
		if err := sb.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("seed %s: %w", d, err)
		}
	}
	if err := sb.Chmod("/", 0o755); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	var dirs []string
	for _, f := range files {
		dir := f.path[:strings.LastIndex(f.path, "/")]
		if dir != "" {
			if err := sb.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("seed %s: %w", f.path, err)
			}
			dirs = append(dirs, dir)
		}
		if f.link != "" {
			sb.Remove(f.path)
			if err := sb.Symlink(f.link, f.path); err != nil {
				return fmt.Errorf("seed %s: %w", f.path, err)
			}
			sb.Lchtimes(f.path, seedTime)
			continue
		}
		if err := sb.WriteFile(f.path, []byte(f.content), f.mode); err != nil {
			return fmt.Errorf("seed %s: %w", f.path, err)
		}
		if err := sb.Chmod(f.path, f.mode); err != nil {
			return fmt.Errorf("seed %s: %w", f.path, err)
		}
		sb.Chtimes(f.path, seedTime, seedTime)
	}
	for _, d := range []string{"/root", "/home/jboss", "/home/oracle"} {
		if fi, err := sb.Stat(d); err == nil && fi.IsDir() {
			mode := os.FileMode(0o700)
			if d == "/root" {
				mode = 0o750
			}
			sb.Chmod(d, mode)
		}
	}
	if os.Geteuid() == 0 {
		for _, o := range []struct {
			path     string
			uid, gid int
		}{{"/home/jboss", 500, 500}, {"/home/jboss/.bashrc", 500, 500}, {"/home/jboss/.bash_profile", 500, 500},
			{"/home/oracle", 501, 501}, {"/home/oracle/.bashrc", 501, 501}, {"/home/oracle/.bash_profile", 501, 501}} {
			sb.Lchown(o.path, o.uid, o.gid)
		}
	}
	sb.Chmod("/tmp", 0o777|os.ModeSticky)
	sb.Remove("/tmp/.keep")
	sb.Remove("/var/spool/cron/.keep")
	for _, d := range dirs {
		sb.Chtimes(d, seedTime, seedTime)
	}
	return nil
}
