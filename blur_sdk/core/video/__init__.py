"""Video anonymization: decode and encode (io), carry regions across frames (track), and run the
image pipeline's finders and redactors over a whole video (process).

Built on OpenCV's bundled FFmpeg (an LGPL build): MP4/MOV/MKV/WEBM/AVI in, MPEG-4 Part 2 MP4 or
VP9 WebM out. No audio and no variable frame rate survive: OpenCV neither reads nor writes audio
streams, and its writer gives every frame the same duration (1 / fps).
"""
