"""The lecturer's view of a class (issue 35): every student's run live, one run large, class
sweeps, and sending a step. Opened with the lecturer key (DASH_LECTURER_KEY)."""
from core import ui
from core.ui.lecturer import lecturer_view

ui.page_setup("class", "Class: every student's run, live", "👥",
              intro="Create a class, give its code to the students, and watch every run as they train.")
lecturer_view()
