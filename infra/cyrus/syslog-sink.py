#!/usr/bin/python3
"""Receive syslog datagrams on an AF_UNIX socket and append them, with a local
millisecond timestamp and severity, to a file. Stand-in for /dev/log in containers.

usage: syslog-sink.py SOCKET LOGFILE
"""
import datetime
import os
import re
import socket
import sys

SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug']
PRI = re.compile(rb'^<(\d+)>')
# glibc prefixes "Mon DD HH:MM:SS "; our own timestamp replaces it
GLIBC_TIME = re.compile(rb'^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d ')

sock_path, log_path = sys.argv[1], sys.argv[2]
if os.path.exists(sock_path):
    os.unlink(sock_path)
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(sock_path)
os.chmod(sock_path, 0o666)  # Cyrus processes run as cyrus
with open(log_path, 'ab', buffering=0) as out:
    while True:
        data = sock.recv(65536)
        level = b''
        m = PRI.match(data)
        if m:
            level = SEVERITIES[int(m.group(1)) & 7].encode()
            data = GLIBC_TIME.sub(b'', data[m.end():])
        now = datetime.datetime.now().strftime('%H:%M:%S.%f')[:-3].encode()
        out.write(now + b' ' + level.ljust(7) + b' ' + data.rstrip(b'\n') + b'\n')
