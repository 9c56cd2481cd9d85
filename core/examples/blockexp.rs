use biscuit_auth::builder::BlockBuilder;
fn main() {
    let key = "hex:ffff87f0ffff87f0ffff87f0ffff87f0ffff87f0ffff87f0ffff87f0ffff87f0";
    let variants = [
        ("p2 no ctx", format!(r#"hop(1, "agent:worker_1", "/root/worker_0/worker_1", {key});
check if time($time), $time <= 2026-01-01T00:30:00Z;
check if tool($tool), {{"read_file"}}.contains($tool);
check if operation($op), {{"read"}}.contains($op);
check if resource($res), ($res + "/").starts_with("src/");
check if depth($depth), $depth <= 8;"#)),
        ("hop2 vars", format!(r#"hop("agent:worker_1", {key});
check if time($time), $time <= 2026-01-01T00:30:00Z;
check if tool($tool), {{"read_file"}}.contains($tool);
check if operation($operation), {{"read"}}.contains($operation);
check if resource($resource), ($resource + "/").starts_with("src/");
check if depth($depth), $depth <= 8;"#)),
        ("one check", format!(r#"hop("agent:worker_1", {key});
check if time($time), tool($tool), operation($operation), resource($resource), depth($depth), $time <= 2026-01-01T00:30:00Z, {{"read_file"}}.contains($tool), {{"read"}}.contains($operation), ($resource + "/").starts_with("src/"), $depth <= 8;"#)),
        ("only fact", format!(r#"hop("agent:worker_1", {key});"#)),
        ("fact+time", format!(r#"hop("agent:worker_1", {key});
check if time($time), $time <= 2026-01-01T00:30:00Z;"#)),
    ];
    for (name, code) in variants {
        let b = BlockBuilder::new().code(&code).unwrap();
        let mut out = Vec::new();
        b.encode_third_party_block(&mut out).unwrap();
        println!("{name}: {}", out.len());
    }
}
