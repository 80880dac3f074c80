"""Personal data under 152-FZ: the teacher's own data export ("My data")."""
