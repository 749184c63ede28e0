//! The `local` connector: the embedded ticket store (see
//! `store::local_tickets`). The default, for trying hdis-sync out and for
//! tests; `hdis-sync tickets` shows what it holds.

use std::path::Path;

use async_trait::async_trait;
use chrono::Utc;

use super::{Connector, ConnectorError, NewTicket, TicketRef, TicketUpdate};
use crate::store::local_tickets::{LocalTicket, LocalTickets};

pub struct LocalConnector {
    tickets: LocalTickets,
}

impl LocalConnector {
    pub fn open(path: &Path) -> Result<LocalConnector, ConnectorError> {
        Ok(LocalConnector {
            tickets: LocalTickets::open(path)?,
        })
    }
}

fn to_ref(t: LocalTicket) -> TicketRef {
    TicketRef {
        id: t.id.to_string(),
        number: t.number,
    }
}

fn ticket_id(t: &TicketRef) -> Result<i64, ConnectorError> {
    t.id.parse().map_err(|_| ConnectorError::Rejected {
        system: "local",
        action: "update",
        message: format!("ticket id {:?} is not a local ticket id", t.id),
    })
}

#[async_trait]
impl Connector for LocalConnector {
    fn name(&self) -> &'static str {
        "local"
    }

    async fn find_by_correlation(&self, key: &str) -> Result<Option<TicketRef>, ConnectorError> {
        Ok(self.tickets.find_by_correlation(key)?.map(to_ref))
    }

    async fn create(&self, ticket: &NewTicket) -> Result<TicketRef, ConnectorError> {
        let t = self.tickets.create(
            &ticket.correlation_key,
            &ticket.title,
            &ticket.description,
            ticket.lexmark_state.as_deref(),
            Utc::now(),
        )?;
        Ok(to_ref(t))
    }

    async fn update(
        &self,
        ticket: &TicketRef,
        update: &TicketUpdate,
    ) -> Result<(), ConnectorError> {
        let id = ticket_id(ticket)?;
        if self.tickets.add_note(
            id,
            &update.note,
            update.lexmark_state.as_deref(),
            Utc::now(),
        )? {
            Ok(())
        } else {
            Err(ConnectorError::Rejected {
                system: "local",
                action: "update",
                message: format!("ticket {} does not exist", ticket.number),
            })
        }
    }

    async fn has_marker(
        &self,
        ticket: &TicketRef,
        marker: &str,
    ) -> Result<Option<bool>, ConnectorError> {
        Ok(Some(
            self.tickets
                .has_note_containing(ticket_id(ticket)?, marker)?,
        ))
    }

    async fn check(&self) -> Result<(), ConnectorError> {
        self.tickets.list()?;
        Ok(())
    }
}
