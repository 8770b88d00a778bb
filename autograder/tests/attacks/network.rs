//! Reaching the network: a TCP connection and a UDP datagram to the kit
//! test's listeners on 127.0.0.1 (their ports in /tmp/heaplab-attack-ports).

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::time::Duration;

use crate::{breach, tried};

pub fn before_main() {}

pub fn in_the_heap() {
    let ports = std::fs::read_to_string("/tmp/heaplab-attack-ports").unwrap_or_default();
    let mut ports = ports.split_whitespace().filter_map(|p| p.parse::<u16>().ok());
    let (Some(tcp), Some(udp)) = (ports.next(), ports.next()) else {
        tried("the network (no ports to try)");
        return;
    };
    tried("a TCP connection to 127.0.0.1");
    let addr = ([127, 0, 0, 1], tcp).into();
    if let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
        let _ = stream.write_all(b"heaplab-attack");
        breach("connected to 127.0.0.1 over TCP");
    }
    tried("a UDP datagram to 127.0.0.1");
    if let Ok(socket) = UdpSocket::bind(("127.0.0.1", 0)) {
        if socket.send_to(b"heaplab-attack", ("127.0.0.1", udp)).is_ok() {
            breach("sent a UDP datagram to 127.0.0.1");
        }
    }
}
