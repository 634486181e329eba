//! Appointments, overlap resolution and iCalendar import.
