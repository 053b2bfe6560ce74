"""Everything Streamlit: the three tabs and the widgets they share."""
