use std::sync::MutexGuard;

use opkit::op;

#[derive(serde::Deserialize)]
struct Ticket {
    id: u32,
    #[serde(skip)]
    hold: Option<std::marker::PhantomData<MutexGuard<'static, ()>>>,
}

#[op]
fn op_ticket(ticket: Ticket) -> u32 {
    let _ = ticket.hold;
    ticket.id
}

fn main() {}
